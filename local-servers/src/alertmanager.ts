import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort, retryPortClash } from './ports.js';
import { awaitReady, ServerProcess } from './server-process.js';

/** A real Alertmanager (Debian's `prometheus-alertmanager` package) on a free loopback port, clustering off
 *  unless `cluster` is given. */
export interface AlertmanagerServer {
  readonly url: string;
  readonly port: number;
  readonly configFile: string;
  /** Writes a new configuration and reloads it (`POST /-/reload`); throws if Alertmanager rejects it. */
  reload(configYaml?: string): Promise<void>;
  /** GET an API v2 path, e.g. `/status` or `/alerts`. */
  api<T = unknown>(path: string): Promise<T>;
  /** POST alerts as Prometheus does (`/api/v2/alerts`). */
  postAlerts(alerts: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export interface StartAlertmanagerOptions {
  config?: string;
  timeoutMs?: number;
  /** Gossip with peers as an HA pair does (loopback ports from freePort()); fast gossip so tests settle in ~1 s. */
  cluster?: { port: number; peers: number[] };
}

const minimalConfig = `route:
  receiver: blackhole
receivers:
  - name: blackhole
`;

export function alertmanagerBinary(): string {
  // Debian names the server binary prometheus-alertmanager; upstream tarballs call it alertmanager.
  try {
    return findBinary('prometheus-alertmanager', 'prometheus-alertmanager');
  } catch {
    return findBinary('alertmanager', 'prometheus-alertmanager');
  }
}

export function startAlertmanager(options: StartAlertmanagerOptions = {}): Promise<AlertmanagerServer> {
  return retryPortClash(() => startAlertmanagerOnce(options));
}

async function startAlertmanagerOnce(options: StartAlertmanagerOptions): Promise<AlertmanagerServer> {
  const binary = alertmanagerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-am-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, options.config ?? minimalConfig);
  const server = ServerProcess.start('alertmanager', binary, [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(options.cluster
      ? [
          `--cluster.listen-address=127.0.0.1:${options.cluster.port}`,
          `--cluster.advertise-address=127.0.0.1:${options.cluster.port}`,
          ...options.cluster.peers.map((p) => `--cluster.peer=127.0.0.1:${p}`),
          '--cluster.gossip-interval=50ms',
          '--cluster.peer-timeout=2s',
        ]
      : ['--cluster.listen-address=']),
    '--log.level=warn',
  ]);
  await awaitReady(server, `Alertmanager ready on ${url}`, `${url}/-/ready`, dir, options.timeoutMs);
  return {
    url,
    port,
    configFile,
    async reload(configYaml?: string): Promise<void> {
      if (configYaml !== undefined) writeFileSync(configFile, configYaml);
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`Alertmanager rejected the configuration (${res.status}): ${text.trim()}`);
    },
    async api<T>(path: string): Promise<T> {
      const res = await fetch(`${url}/api/v2${path}`, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`Alertmanager ${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async postAlerts(alerts: unknown[]): Promise<void> {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`Alertmanager rejected alerts: HTTP ${res.status} ${await res.text()}`);
    },
    async stop(): Promise<void> {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
