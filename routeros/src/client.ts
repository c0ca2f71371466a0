// A thin RouterOS API client: one connection, commands multiplexed by `.tag` (so one scrape's commands
// are pipelined), typed errors, per-command timeouts, `!empty` (RouterOS 7.18+) understood, text decoded
// as UTF-8 with a single-byte fallback. Replaces node-routeros (see routeros/README.md).
import { createHash } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { decodeRouterOsText, encodeCommand, ReplyReader, RouterOsProtocolError } from './wire.js';

/** Why a RouterOS request failed; used as the `reason` label of error counters. */
export type RouterOsFailure =
  'timeout' | 'refused' | 'unreachable' | 'auth' | 'trap' | 'protocol' | 'closed' | 'tls';

export class RouterOsError extends Error {
  constructor(
    readonly reason: RouterOsFailure,
    message: string,
    readonly category?: string,
  ) {
    super(message);
    this.name = 'RouterOsError';
  }
}

export type RouterOsRow = Record<string, string>;

export interface RouterOsConnectOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** API-SSL: TLS options (ca, rejectUnauthorized, servername), or false for the plain API. */
  tls?: ConnectionOptions | false;
  /** Connect + login timeout and default per-command timeout, in milliseconds. */
  timeoutMs?: number;
  /** Code page for text that is not valid UTF-8 (default windows-1252). */
  encoding?: string;
}

interface Pending {
  rows: RouterOsRow[];
  resolve: (rows: RouterOsRow[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  trap?: RouterOsError;
  ret?: string;
}

export interface PrintOptions {
  proplist?: readonly string[];
  queries?: readonly string[];
  timeoutMs?: number;
}

export class RouterOsClient {
  private readonly reader = new ReplyReader();
  private readonly pending = new Map<string, Pending>();
  private nextTag = 1;
  private closedError: RouterOsError | undefined;
  private readonly encoding: string;
  private readonly timeoutMs: number;

  private constructor(
    private readonly socket: Socket,
    options: RouterOsConnectOptions,
  ) {
    this.encoding = options.encoding ?? 'windows-1252';
    this.timeoutMs = options.timeoutMs ?? 5_000;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new RouterOsError('closed', `connection error: ${err.message}`)),
    );
    socket.on('close', () => this.fail(new RouterOsError('closed', 'connection closed by the router')));
  }

  /** Connects and logs in (6.43+ plain login; answers the MD5 challenge of older routers). */
  static async connect(options: RouterOsConnectOptions): Promise<RouterOsClient> {
    if (options.encoding !== undefined) assertEncoding(options.encoding);
    const timeoutMs = options.timeoutMs ?? 5_000;
    const socket = await openSocket(options, timeoutMs);
    const client = new RouterOsClient(socket, options);
    try {
      const first = await client.command(
        '/login',
        [`=name=${options.username}`, `=password=${options.password}`],
        timeoutMs,
      );
      const challenge = client.lastRet(first);
      if (challenge !== undefined && /^[0-9a-f]{32}$/.test(challenge)) {
        const digest = createHash('md5')
          .update(
            Buffer.concat([
              Buffer.from([0]),
              Buffer.from(options.password, 'utf8'),
              Buffer.from(challenge, 'hex'),
            ]),
          )
          .digest('hex');
        await client.command('/login', [`=name=${options.username}`, `=response=00${digest}`], timeoutMs);
      }
    } catch (err) {
      client.close();
      if (err instanceof RouterOsError && err.reason === 'trap')
        throw new RouterOsError('auth', `login failed: ${err.message}`);
      throw err;
    }
    return client;
  }

  private lastRet(rows: RouterOsRow[]): string | undefined {
    return (rows as RouterOsRow[] & { ret?: string }).ret;
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /**
   * Sends one command and resolves with its `!re` rows (`!done =ret=` is exposed as `rows.ret`).
   * A `!trap` rejects with reason 'trap'; a lost connection or timeout rejects every pending command.
   */
  command(
    path: string,
    words: readonly string[] = [],
    timeoutMs = this.timeoutMs,
  ): Promise<RouterOsRow[] & { ret?: string }> {
    if (this.closedError) return Promise.reject(this.closedError);
    const tag = String(this.nextTag++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A router that stops answering poisons the connection: later replies could belong to anything.
        const err = new RouterOsError('timeout', `${path} got no answer within ${timeoutMs} ms`);
        this.fail(err);
        this.socket.destroy();
      }, timeoutMs);
      this.pending.set(tag, { rows: [], resolve, reject, timer });
      this.socket.write(encodeCommand([path, ...words, `.tag=${tag}`]));
    });
  }

  /** `print` with `=.proplist=` and query words. */
  print(path: string, options: PrintOptions = {}): Promise<RouterOsRow[]> {
    const words: string[] = [];
    if (options.proplist?.length) words.push(`=.proplist=${options.proplist.join(',')}`);
    for (const q of options.queries ?? []) words.push(q.startsWith('?') ? q : `?${q}`);
    return this.command(`${path}/print`, words, options.timeoutMs);
  }

  /** node-routeros-compatible call shape: `write('/ppp/secret/add', ['=name=x'])`. */
  write(path: string, words: readonly string[] = []): Promise<RouterOsRow[] & { ret?: string }> {
    return this.command(path, words);
  }

  private onData(chunk: Buffer): void {
    let sentences: Buffer[][];
    try {
      sentences = this.reader.push(chunk);
    } catch (err) {
      this.fail(
        err instanceof RouterOsProtocolError
          ? new RouterOsError('protocol', err.message)
          : new RouterOsError('protocol', String(err)),
      );
      this.socket.destroy();
      return;
    }
    for (const sentence of sentences) {
      try {
        this.onSentence(sentence);
      } catch (err) {
        this.fail(new RouterOsError('protocol', (err as Error).message));
        this.socket.destroy();
        return;
      }
    }
  }

  private onSentence(words: Buffer[]): void {
    const [head, ...rest] = words;
    if (head === undefined) return;
    const reply = head.toString('latin1');
    if (reply === '!fatal') {
      const message = rest.map((w) => decodeRouterOsText(w, this.encoding)).join(' ');
      this.fail(new RouterOsError('closed', `router closed the session: ${message}`));
      this.socket.destroy();
      return;
    }
    let tag: string | undefined;
    const row: RouterOsRow = {};
    for (const word of rest) {
      if (word[0] === 0x3d) {
        // "=name=value": the name is ASCII; the value may hold any bytes.
        const eq = word.indexOf(0x3d, 1);
        if (eq < 0) row[word.subarray(1).toString('latin1')] = '';
        else
          row[word.subarray(1, eq).toString('latin1')] = decodeRouterOsText(
            word.subarray(eq + 1),
            this.encoding,
          );
      } else if (word.length > 5 && word.subarray(0, 5).toString('latin1') === '.tag=') {
        tag = word.subarray(5).toString('latin1');
      }
    }
    if (tag === undefined) throw new Error(`reply ${reply} without a .tag`);
    const pending = this.pending.get(tag);
    if (!pending) return; // a late reply to a command that already timed out or was cancelled
    switch (reply) {
      case '!re':
        pending.rows.push(row);
        return;
      case '!empty': // RouterOS 7.18+: the print had no rows; !done follows
        return;
      case '!trap':
        pending.trap = new RouterOsError('trap', row.message ?? 'unknown error', row.category);
        return;
      case '!done': {
        this.pending.delete(tag);
        clearTimeout(pending.timer);
        if (pending.trap) {
          pending.reject(pending.trap);
          return;
        }
        const rows = pending.rows as RouterOsRow[] & { ret?: string };
        if (row.ret !== undefined) rows.ret = row.ret;
        pending.resolve(rows);
        return;
      }
      default:
        throw new Error(`unknown reply word ${JSON.stringify(reply.slice(0, 20))}`);
    }
  }

  private fail(err: RouterOsError): void {
    if (!this.closedError) this.closedError = err;
    for (const [tag, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(tag);
    }
  }

  close(): void {
    if (!this.closedError) this.closedError = new RouterOsError('closed', 'connection closed by the client');
    this.fail(this.closedError);
    this.socket.destroy();
  }
}

/** Refuses a code page TextDecoder does not know before any byte is read (else every reply would fail). */
function assertEncoding(label: string): void {
  try {
    new TextDecoder(label);
  } catch {
    throw new TypeError(
      `unknown encoding '${label}': use a WHATWG label such as windows-1252 or windows-1251`,
    );
  }
}

function openSocket(options: RouterOsConnectOptions, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const useTls = options.tls !== undefined && options.tls !== false;
    const socket: Socket = useTls
      ? tlsConnect({ host: options.host, port: options.port, ...(options.tls as ConnectionOptions) })
      : tcpConnect({ host: options.host, port: options.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RouterOsError(
          'timeout',
          `connect to ${options.host}:${options.port} timed out after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const reason: RouterOsFailure =
        err.code === 'ECONNREFUSED'
          ? 'refused'
          : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' || err.code === 'ENOTFOUND'
            ? 'unreachable'
            : useTls
              ? 'tls'
              : 'closed';
      reject(new RouterOsError(reason, `cannot connect to ${options.host}:${options.port}: ${err.message}`));
    });
  });
}
