import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, retryPortClash } from './ports.js';
import { awaitReady, ServerProcess } from './server-process.js';

/** One sample of an instant-vector query result. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus (Debian's `prometheus` package) on a free loopback port with a temporary TSDB. */
export interface PrometheusServer {
  readonly url: string;
  readonly port: number;
  readonly configFile: string;
  /** Writes a new configuration and reloads it through `POST /-/reload`; throws if Prometheus rejects it. */
  reload(configYaml?: string): Promise<void>;
  /** Instant query through the HTTP API; throws on a query error. */
  query(promql: string, time?: Date): Promise<PromSample[]>;
  /** GET an API path (e.g. `/api/v1/targets`) and return its `data`. */
  api<T = unknown>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** prometheus.yml content. Paths inside may use `{{dir}}`, replaced by the server's temporary directory. */
  config?: string;
  /** Extra files to write into the temporary directory before start: name → content. */
  files?: Record<string, string>;
  extraArgs?: string[];
  /** Existing TSDB directory to serve (e.g. blocks backfilled with promtool); default: a fresh one. */
  dataDir?: string;
  timeoutMs?: number;
}

interface ApiEnvelope<T> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

export function startPrometheus(options: StartPrometheusOptions = {}): Promise<PrometheusServer> {
  return retryPortClash(() => startPrometheusOnce(options));
}

async function startPrometheusOnce(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const binary = findBinary('prometheus', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-prom-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const render = (text: string): string => text.replaceAll('{{dir}}', dir);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, render(options.config ?? 'global:\n  scrape_interval: 15s\n'));
  for (const [name, content] of Object.entries(options.files ?? {}))
    writeFileSync(join(dir, name), render(content));

  const server = ServerProcess.start('prometheus', binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${options.dataDir ?? join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    '--web.enable-admin-api',
    '--log.level=warn',
    ...(options.extraArgs ?? []),
  ]);

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000), ...init });
    const body = (await res.json()) as ApiEnvelope<T>;
    if (body.status !== 'success')
      throw new Error(`Prometheus ${path}: ${body.errorType ?? ''} ${body.error ?? res.status}`);
    return body.data;
  };

  await awaitReady(server, `Prometheus ready on ${url}`, `${url}/-/ready`, dir, options.timeoutMs);

  return {
    url,
    port,
    configFile,
    async reload(configYaml?: string): Promise<void> {
      if (configYaml !== undefined) writeFileSync(configFile, render(configYaml));
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`Prometheus rejected the configuration (${res.status}): ${text.trim()}`);
    },
    async query(promql: string, time?: Date): Promise<PromSample[]> {
      const params = new URLSearchParams({ query: promql });
      if (time) params.set('time', String(time.getTime() / 1000));
      const data = await api<{ resultType: string; result: PromSample[] }>(
        `/api/v1/query?${params.toString()}`,
      );
      return data.result;
    },
    api: <T>(path: string) => api<T>(path),
    async stop(): Promise<void> {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
