// One logged-in API connection per router, shared by everyone who talks to that router: callers get a
// session on it, and at most `maxInFlight` of their commands travel at once (the rest wait in line), so a
// burst cannot bury a router's API. A failed connect can be retried with exponential backoff: inside the
// window a caller fails fast with the last error instead of dialling again (a dead router costs one fast
// failure per scrape, not a connect storm).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { RouterOsClient, RouterOsError, type PrintOptions, type RouterOsRow } from './client.js';

/** API-SSL settings: certificate checks on unless `insecureSkipVerify` (RouterOS ships self-signed ones). */
export interface RouterTls {
  caFile?: string;
  insecureSkipVerify: boolean;
  serverName?: string;
}

export interface RouterEndpoint {
  /** The router's name: one connection per name. */
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  tls: false | RouterTls;
  /** Connect + login timeout and per-command timeout. */
  timeoutMs: number;
  /** Code page for text that is not valid UTF-8 (default windows-1252). */
  encoding?: string;
}

export interface RouterPoolOptions {
  /** Commands in flight per router; more wait in arrival order. Default 50. */
  maxInFlight?: number;
  /**
   * After a failed connect, fail fast with the last error until the backoff passes (doubling from
   * `initialMs` to `maxMs`). false: every call dials again (the caller backs off). Default 0.5 s → 30 s.
   */
  reconnectBackoff?: { initialMs: number; maxMs: number } | false;
  /** Told the number of open connections whenever it may have changed. */
  onOpenChange?: (open: number) => void;
  now?: () => number;
}

/** A counting semaphore: at most `size` holders, the rest wait in arrival order. */
class InFlightLimit {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    // Hand the slot straight to the next waiter, or give it back.
    const next = this.waiting.shift();
    if (next) next();
    else this.used -= 1;
  }
}

interface Entry {
  endpoint: RouterEndpoint;
  key: string;
  limit: InFlightLimit;
  client?: RouterOsClient;
  connecting?: Promise<RouterOsClient>;
  failures: number;
  retryAt: number;
  lastError?: RouterOsError;
}

/** Commands sent through one `RouterPool.session()` call, on the router's shared connection. */
export class RouterSession {
  /** Commands this session wrote to the router (not those refused before sending by a closed connection). */
  sent = 0;

  constructor(
    readonly client: RouterOsClient,
    /** Whether the connection was open before this session (a reused one may have died unseen). */
    readonly reused: boolean,
    private readonly limit: InFlightLimit,
    private readonly onDiscard: (client: RouterOsClient) => void,
  ) {}

  get closed(): boolean {
    return this.client.closed;
  }

  /** Sends one command once a slot is free; resolves with its `!re` rows (`!done =ret=` as `rows.ret`). */
  async command(
    path: string,
    words: readonly string[] = [],
    timeoutMs?: number,
  ): Promise<RouterOsRow[] & { ret?: string }> {
    await this.limit.acquire();
    try {
      if (!this.client.closed) this.sent += 1;
      return await this.client.command(path, words, timeoutMs);
    } finally {
      this.limit.release();
    }
  }

  /** `print` with `=.proplist=` and query words. */
  async print(path: string, options: PrintOptions = {}): Promise<RouterOsRow[]> {
    await this.limit.acquire();
    try {
      if (!this.client.closed) this.sent += 1;
      return await this.client.print(path, options);
    } finally {
      this.limit.release();
    }
  }

  /** Closes a connection found dead, so the next session dials again. */
  discard(): void {
    this.onDiscard(this.client);
  }
}

export class RouterPool {
  private readonly entries = new Map<string, Entry>();
  private readonly maxInFlight: number;
  private readonly backoff: { initialMs: number; maxMs: number } | false;
  private readonly onOpenChange: (open: number) => void;
  private readonly now: () => number;

  constructor(options: RouterPoolOptions = {}) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 50);
    this.backoff = options.reconnectBackoff ?? { initialMs: 500, maxMs: 30_000 };
    this.onOpenChange = options.onOpenChange ?? (() => undefined);
    this.now = options.now ?? Date.now;
  }

  private key(e: RouterEndpoint): string {
    // A changed address, credential, TLS setting or code page means a new connection.
    return JSON.stringify([e.host, e.port, e.username, e.password, e.tls, e.encoding, e.timeoutMs]);
  }

  /** A session on the router's connection, connecting (and logging in) if none is open. */
  async session(endpoint: RouterEndpoint): Promise<RouterSession> {
    const entry = this.entry(endpoint);
    const reused = entry.client !== undefined && !entry.client.closed;
    const client = reused ? (entry.client as RouterOsClient) : await this.connect(entry);
    return new RouterSession(client, reused, entry.limit, (dead) => {
      dead.close();
      if (entry.client === dead) entry.client = undefined;
      this.report();
    });
  }

  private entry(endpoint: RouterEndpoint): Entry {
    const key = this.key(endpoint);
    let entry = this.entries.get(endpoint.name);
    if (entry && entry.key !== key) {
      entry.client?.close();
      this.entries.delete(endpoint.name);
      entry = undefined;
    }
    if (!entry) {
      entry = { endpoint, key, limit: new InFlightLimit(this.maxInFlight), failures: 0, retryAt: 0 };
      this.entries.set(endpoint.name, entry);
    }
    return entry;
  }

  private connect(entry: Entry): Promise<RouterOsClient> {
    if (entry.connecting) return entry.connecting;
    if (this.backoff && entry.lastError && this.now() < entry.retryAt) return Promise.reject(entry.lastError);
    const { endpoint } = entry;
    const backoff = this.backoff;
    entry.connecting = RouterOsClient.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.username,
      password: endpoint.password,
      timeoutMs: endpoint.timeoutMs,
      ...(endpoint.encoding !== undefined ? { encoding: endpoint.encoding } : {}),
      tls: endpoint.tls ? tlsOptions(endpoint.tls) : false,
    })
      .then((client) => {
        if (this.entries.get(endpoint.name) !== entry) {
          // Retained away or replaced while dialling: nobody will close it later.
          client.close();
          return client;
        }
        entry.client = client;
        entry.failures = 0;
        entry.lastError = undefined;
        this.report();
        return client;
      })
      .catch((err: unknown) => {
        const e = err instanceof RouterOsError ? err : new RouterOsError('closed', String(err));
        entry.failures += 1;
        entry.lastError = e;
        if (backoff)
          entry.retryAt =
            this.now() + Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(entry.failures - 1, 16));
        throw e;
      })
      .finally(() => {
        entry.connecting = undefined;
      });
    return entry.connecting;
  }

  private report(): void {
    this.onOpenChange(this.openCount());
  }

  /** Closes the connections of routers not named here. */
  retain(names: ReadonlySet<string>): void {
    for (const [name, e] of this.entries) {
      if (!names.has(name)) {
        e.client?.close();
        this.entries.delete(name);
      }
    }
    this.report();
  }

  /** Closes every connection, including those still dialling. */
  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) e.client?.close();
    await Promise.all(entries.map(async (e) => (await e.connecting?.catch(() => undefined))?.close()));
    this.report();
  }

  openCount(): number {
    let open = 0;
    for (const e of this.entries.values()) if (e.client && !e.client.closed) open += 1;
    return open;
  }
}

function tlsOptions(tls: RouterTls): ConnectionOptions {
  return {
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
  };
}
