import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, retryPortClash } from './ports.js';
import type { PromSample } from './prometheus.js';
import { awaitReady, ServerProcess } from './server-process.js';

/** One series of a range query result. */
export interface PromRangeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/**
 * A real single-node VictoriaMetrics (Debian's `victoria-metrics` package) on a free loopback port with a
 * temporary data directory: Prometheus remote_write in at `writeUrl`, PromQL out at `url` (`/api/v1/…`).
 */
export interface VictoriaMetricsServer {
  readonly url: string;
  readonly port: number;
  /** Where Prometheus remote_writes to. */
  readonly writeUrl: string;
  /** Instant query; throws on a query error. */
  query(promql: string, time?: Date): Promise<PromSample[]>;
  /** Range query (start/end in Unix seconds); throws on a query error. */
  queryRange(promql: string, start: number, end: number, stepSeconds: number): Promise<PromRangeSeries[]>;
  /** GET a path (e.g. `/metrics`) and return the body text. */
  text(path: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartVictoriaMetricsOptions {
  extraArgs?: string[];
  timeoutMs?: number;
}

interface ApiEnvelope<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

export function startVictoriaMetrics(
  options: StartVictoriaMetricsOptions = {},
): Promise<VictoriaMetricsServer> {
  return retryPortClash(() => startVictoriaMetricsOnce(options));
}

async function startVictoriaMetricsOnce(
  options: StartVictoriaMetricsOptions,
): Promise<VictoriaMetricsServer> {
  const binary = findBinary('victoria-metrics', 'victoria-metrics');
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = ServerProcess.start('victoria-metrics', binary, [
    `-storageDataPath=${dir}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-retentionPeriod=1d',
    // Tests read what was just written: VictoriaMetrics otherwise hides the last 30 s and caches answers.
    '-search.latencyOffset=0s',
    '-search.disableCache',
    '-loggerLevel=ERROR',
    ...(options.extraArgs ?? []),
  ]);

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as ApiEnvelope<T>;
    if (body.status !== 'success')
      throw new Error(`VictoriaMetrics ${path}: ${body.errorType ?? ''} ${body.error ?? res.status}`);
    return body.data;
  };

  await awaitReady(server, `VictoriaMetrics ready on ${url}`, `${url}/health`, dir, options.timeoutMs);

  return {
    url,
    port,
    writeUrl: `${url}/api/v1/write`,
    async query(promql: string, time?: Date): Promise<PromSample[]> {
      const params = new URLSearchParams({ query: promql });
      if (time) params.set('time', String(time.getTime() / 1000));
      return (await api<{ result: PromSample[] }>(`/api/v1/query?${params.toString()}`)).result;
    },
    async queryRange(promql, start, end, stepSeconds): Promise<PromRangeSeries[]> {
      const params = new URLSearchParams({
        query: promql,
        start: String(start),
        end: String(end),
        step: String(stepSeconds),
      });
      return (await api<{ result: PromRangeSeries[] }>(`/api/v1/query_range?${params.toString()}`)).result;
    },
    async text(path: string): Promise<string> {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (!res.ok) throw new Error(`VictoriaMetrics ${path}: HTTP ${res.status}: ${body.slice(0, 200)}`);
      return body;
    },
    async stop(): Promise<void> {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
