import { existsSync } from 'node:fs';
import { MissingBinaryError } from '../src/binaries.js';
import { startVictoriaMetrics, type VictoriaMetricsServer } from '../src/victoria-metrics.js';
import { waitFor } from '../src/wait.js';

describe('VictoriaMetrics through the harness', () => {
  let vm: VictoriaMetricsServer | undefined;
  let missing: MissingBinaryError | undefined;
  beforeAll(async () => {
    try {
      vm = await startVictoriaMetrics();
    } catch (err) {
      // Locally a missing package skips with what to install; in CI it fails.
      if (!(err instanceof MissingBinaryError) || process.env.CI === 'true') throw err;
      missing = err;
      console.warn(`skipping VictoriaMetrics harness test: ${err.message}`);
    }
  }, 120_000);
  afterAll(async () => {
    await vm?.stop();
  });

  it('takes samples in and answers PromQL instant and range queries on a loopback port', async () => {
    if (missing) return;
    const server = vm!;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const now = Math.floor(Date.now() / 1000);
    // The Prometheus text import: the same samples remote_write would carry, without a Prometheus.
    const lines = [0, 1, 2].map((i) => `harness_value{router="r-1"} ${10 + i} ${(now - 20 + i * 10) * 1000}`);
    const res = await fetch(`${server.url}/api/v1/import/prometheus`, {
      method: 'POST',
      body: lines.join('\n'),
    });
    expect(res.status).toBe(204);
    await server.text('/internal/force_flush');
    // Imported rows become searchable part by part: wait until all three are, then read them back.
    await waitFor('all three imported samples searchable', async () => {
      const r = await server.query('count_over_time(harness_value[30s])', new Date(now * 1000));
      return r[0]?.value[1] === '3' ? true : undefined;
    });
    const instant = await server.query('harness_value', new Date(now * 1000));
    expect(instant.map((s) => [s.metric.router, s.value[1]])).toEqual([['r-1', '12']]);
    const range = await server.queryRange('harness_value', now - 20, now, 10);
    expect(range[0]?.values.map(([, v]) => v)).toEqual(['10', '11', '12']);
    await expect(server.query('sum(')).rejects.toThrow(/VictoriaMetrics/);
  });

  it('deletes its data directory on stop', async () => {
    if (missing) return;
    const other = await startVictoriaMetrics();
    const dir = (await other.text('/flags')).match(/-storageDataPath="([^"]+)"/)?.[1];
    expect(dir && existsSync(dir)).toBe(true);
    await other.stop();
    expect(existsSync(dir!)).toBe(false);
  });
});
