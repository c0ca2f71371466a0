// Keeps one logged-in API connection per router open between scrapes; reconnects with exponential
// backoff so a dead router costs one fast failure per scrape instead of a connect storm.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { RouterOsClient, RouterOsError } from './client.js';

export interface RouterEndpoint {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  tls: false | { caFile?: string; insecureSkipVerify: boolean; serverName?: string };
  timeoutMs: number;
  encoding: string;
}

interface Entry {
  endpoint: RouterEndpoint;
  client?: RouterOsClient;
  connecting?: Promise<RouterOsClient>;
  failures: number;
  retryAt: number;
  lastError?: RouterOsError;
}

export class RouterConnections {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly onOpenChange: (open: number) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private key(e: RouterEndpoint): string {
    // A changed address, credential or TLS setting means a new connection.
    return JSON.stringify([e.name, e.host, e.port, e.username, e.password, e.tls, e.encoding]);
  }

  async get(endpoint: RouterEndpoint): Promise<RouterOsClient> {
    let entry = this.entries.get(endpoint.name);
    if (entry && this.key(entry.endpoint) !== this.key(endpoint)) {
      entry.client?.close();
      this.entries.delete(endpoint.name);
      entry = undefined;
    }
    if (!entry) {
      entry = { endpoint, failures: 0, retryAt: 0 };
      this.entries.set(endpoint.name, entry);
    }
    if (entry.client && !entry.client.closed) return entry.client;
    if (entry.connecting) return entry.connecting;
    if (entry.lastError && this.now() < entry.retryAt) throw entry.lastError;
    const current = entry;
    current.connecting = RouterOsClient.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.username,
      password: endpoint.password,
      timeoutMs: endpoint.timeoutMs,
      encoding: endpoint.encoding,
      tls: endpoint.tls ? tlsOptions(endpoint.tls) : false,
    })
      .then((client) => {
        current.client = client;
        current.failures = 0;
        current.lastError = undefined;
        this.report();
        return client;
      })
      .catch((err: unknown) => {
        const e = err instanceof RouterOsError ? err : new RouterOsError('closed', String(err));
        current.failures += 1;
        current.lastError = e;
        current.retryAt = this.now() + Math.min(30_000, 500 * 2 ** Math.min(current.failures - 1, 6));
        throw e;
      })
      .finally(() => {
        current.connecting = undefined;
      });
    return current.connecting;
  }

  private report(): void {
    let open = 0;
    for (const e of this.entries.values()) if (e.client && !e.client.closed) open += 1;
    this.onOpenChange(open);
  }

  /** Closes connections of routers no longer configured. */
  retain(names: Set<string>): void {
    for (const [name, e] of this.entries) {
      if (!names.has(name)) {
        e.client?.close();
        this.entries.delete(name);
      }
    }
    this.report();
  }

  closeAll(): void {
    for (const e of this.entries.values()) e.client?.close();
    this.entries.clear();
    this.report();
  }

  openCount(): number {
    let open = 0;
    for (const e of this.entries.values()) if (e.client && !e.client.closed) open += 1;
    return open;
  }
}

function tlsOptions(tls: {
  caFile?: string;
  insecureSkipVerify: boolean;
  serverName?: string;
}): ConnectionOptions {
  return {
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
  };
}
