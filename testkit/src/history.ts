import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { findBinary, startPrometheus, type PrometheusServer } from '@ispmon/local-servers';

/**
 * A Prometheus serving history written beforehand: `promtool tsdb create-blocks-from openmetrics` turns
 * `openMetricsFile` into blocks in `data/` beside it, and Prometheus starts on them with a retention
 * long enough to keep months-old blocks. `maxBlockDuration` (e.g. '768h') writes a month as one block
 * instead of ~370 two-hour ones, each of which makes promtool re-read the whole file.
 */
export async function startPrometheusWithHistory(
  openMetricsFile: string,
  o: { maxBlockDuration?: string } = {},
): Promise<PrometheusServer> {
  const dataDir = join(dirname(openMetricsFile), 'data');
  execFileSync(
    findBinary('promtool', 'prometheus'),
    [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '--quiet',
      ...(o.maxBlockDuration ? [`--max-block-duration=${o.maxBlockDuration}`] : []),
      openMetricsFile,
      dataDir,
    ],
    { stdio: 'pipe' },
  );
  return startPrometheus({ dataDir, extraArgs: ['--storage.tsdb.retention.time=10y'] });
}
