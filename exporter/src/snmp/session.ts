// The SNMP client edge: one net-snmp session per scrape (v1/v2c community or v3 USM), GETBULK table
// walks of several columns per PDU, scalar GETs, a timeout per request with retries (as snmp_exporter
// does), one deadline for the whole scrape, and errors reduced to a typed reason.
import { createSocket, type Socket, type SocketType } from 'node:dgram';
import snmp from 'net-snmp';
import { compareOids, isExceptionType, normalizeOid, SnmpType, type SnmpVarbind } from './values.js';

export type SnmpVersion = '1' | '2c' | '3';

export interface SnmpV3Credentials {
  user: string;
  authProtocol?: 'md5' | 'sha' | 'sha256' | 'sha512';
  authKey?: string;
  privProtocol?: 'des' | 'aes' | 'aes256b' | 'aes256r';
  privKey?: string;
}

/** One SNMP agent with its secrets already resolved. */
export interface SnmpTarget {
  name: string;
  host: string;
  port: number;
  version: SnmpVersion;
  community?: string;
  v3?: SnmpV3Credentials;
  /** Rows per column per GETBULK PDU. */
  maxRepetitions: number;
  /** How long one request waits for its answer before it is sent again. */
  timeoutMs: number;
  /** How many times an unanswered request is sent again. */
  retries: number;
}

/** Why a request failed; becomes the `reason` label of `snmp_scrape_error` and the self-metrics. */
export type SnmpFailureReason =
  'timeout' | 'auth' | 'refused' | 'unreachable' | 'resolve' | 'agent_error' | 'protocol' | 'aborted';

export class SnmpError extends Error {
  constructor(
    readonly reason: SnmpFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'SnmpError';
  }
}

/** Maps whatever net-snmp or the socket raised to a reason. Messages never contain keys or communities. */
export function classifySnmpError(err: unknown): SnmpError {
  if (err instanceof SnmpError) return err;
  const e = err as { name?: string; message?: string; code?: string | number };
  const message = e?.message ?? String(err);
  if (e?.name === 'RequestTimedOutError')
    return new SnmpError('timeout', 'no answer from the agent to a request or any of its retries');
  if (e?.code === 'ECONNREFUSED')
    return new SnmpError('refused', 'agent port closed (ICMP port unreachable)');
  if (e?.code === 'EHOSTUNREACH' || e?.code === 'ENETUNREACH')
    return new SnmpError('unreachable', 'host unreachable');
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN')
    return new SnmpError('resolve', 'cannot resolve host');
  if (e?.name === 'ResponseInvalidError') {
    // EAuthFailure (USM report: wrong digest, unknown user, decryption error) and failed decryption.
    if (e.code === snmp.ResponseInvalidCode.EAuthFailure || /decrypt|digest|auth/i.test(message))
      return new SnmpError('auth', message);
    return new SnmpError('protocol', message);
  }
  if (e?.name === 'RequestFailedError') return new SnmpError('agent_error', message);
  return new SnmpError('protocol', message);
}

const AUTH = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha256: snmp.AuthProtocols.sha256,
  sha512: snmp.AuthProtocols.sha512,
} as const;
const PRIV = {
  des: snmp.PrivProtocols.des,
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
} as const;

/** At most this many varbinds are asked for in one GETBULK (columns × repetitions), to stay in one datagram. */
const MAX_VARBINDS_PER_PDU = 200;

interface RawVarbind {
  oid: string;
  type?: number;
  value?: unknown;
}

/**
 * net-snmp sends from an unconnected UDP socket, so the kernel never reports an ICMP port-unreachable
 * to it and a closed port costs the whole timeout. This dgram stand-in connects the socket to the agent
 * (the kernel then delivers ECONNREFUSED) and hands socket errors to `onError`, since net-snmp 3.29
 * re-emits them under a wrong event name and they would be lost.
 */
function connectedDgram(
  host: string,
  port: number,
  onError: (err: Error) => void,
): { createSocket(type: SocketType): Socket } {
  return {
    createSocket(type: SocketType): Socket {
      const socket = createSocket(type);
      const queued: Array<() => void> = [];
      let connected = false;
      const send = socket.send.bind(socket) as (
        msg: Buffer,
        offset: number,
        length: number,
        cb: (err: Error | null, bytes: number) => void,
      ) => void;
      socket.on('error', onError);
      socket.connect(port, host, () => {
        connected = true;
        for (const run of queued.splice(0)) run();
      });
      // net-snmp passes the address on every send; a connected socket must be sent to without one.
      (socket as unknown as { send: unknown }).send = (
        msg: Buffer,
        offset: number,
        length: number,
        _port: number,
        _host: string,
        cb: (err: Error | null, bytes: number) => void,
      ): void => {
        if (connected) send(msg, offset, length, cb);
        else queued.push(() => send(msg, offset, length, cb));
      };
      return socket;
    },
  };
}

export interface SnmpSessionOptions {
  /** Aborts every request (the HTTP client went away); it then fails as `aborted`. */
  signal?: AbortSignal | undefined;
  /** The whole scrape must be done within this many ms (from Prometheus's scrape timeout). */
  deadlineMs: number;
}

/** An open session to one agent with a deadline; close() always. */
export class SnmpSession {
  private readonly session: snmp.Session;
  private readonly deadline: number;
  private closed = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;
  /** PDUs answered in this session (for the scrape's self-metrics). */
  pdus = 0;
  /** Requests sent to the agent, retries included (for the scrape's self-metrics). */
  get requestsSent(): number {
    return this.sent;
  }
  private sent = 0;

  constructor(
    readonly target: SnmpTarget,
    private readonly options: SnmpSessionOptions,
  ) {
    this.deadline = Date.now() + options.deadlineMs;
    const dgramModule = connectedDgram(target.host, target.port, (err) =>
      this.failAll(classifySnmpError(err)),
    );
    const sessionOptions = {
      port: target.port,
      retries: target.retries,
      timeout: target.timeoutMs,
      backoff: 1,
      idBitsSize: 32 as const,
      dgramModule,
    };
    if (target.version === '3') {
      const v3 = target.v3;
      if (!v3) throw new SnmpError('protocol', 'SNMPv3 target without a user');
      const level =
        v3.privProtocol && v3.privKey
          ? snmp.SecurityLevel.authPriv
          : v3.authProtocol && v3.authKey
            ? snmp.SecurityLevel.authNoPriv
            : snmp.SecurityLevel.noAuthNoPriv;
      const user: snmp.User = { name: v3.user, level };
      if (level !== snmp.SecurityLevel.noAuthNoPriv) {
        user.authProtocol = AUTH[v3.authProtocol ?? 'sha'];
        user.authKey = v3.authKey;
      }
      if (level === snmp.SecurityLevel.authPriv) {
        user.privProtocol = PRIV[v3.privProtocol ?? 'aes'];
        user.privKey = v3.privKey;
      }
      this.session = snmp.createV3Session(target.host, user, { ...sessionOptions, version: snmp.Version3 });
    } else {
      this.session = snmp.createSession(target.host, target.community ?? 'public', {
        ...sessionOptions,
        version: target.version === '1' ? snmp.Version1 : snmp.Version2c,
      });
    }
    // A datagram that does not parse is reported here; unheard, net-snmp's emit would throw.
    this.session.on('error', (err: Error) => this.failAll(classifySnmpError(err)));
    this.countSends();
    this.timer = setTimeout(
      () =>
        this.failAll(
          new SnmpError(
            'timeout',
            `scrape deadline of ${options.deadlineMs} ms passed before the walk finished`,
          ),
        ),
      options.deadlineMs,
    );
    this.onAbort = () => this.failAll(new SnmpError('aborted', 'the scrape was abandoned by its client'));
    if (options.signal?.aborted) queueMicrotask(this.onAbort);
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Counts datagrams handed to the socket, first tries and retries alike. */
  private countSends(): void {
    const raw = this.session as unknown as { send: (req: unknown, noWait?: boolean) => unknown };
    const send = raw.send.bind(this.session);
    raw.send = (req: unknown, noWait?: boolean) => {
      this.sent += 1;
      return send(req, noWait);
    };
  }

  private failAll(err: SnmpError): void {
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    try {
      this.session.close();
    } catch {
      // already closed
    }
  }

  private call<T>(start: (done: (err: Error | null, result?: T) => void) => void): Promise<T> {
    if (this.closed || Date.now() >= this.deadline)
      return Promise.reject(
        new SnmpError(
          'timeout',
          `scrape deadline of ${this.options.deadlineMs} ms passed before the walk finished`,
        ),
      );
    return new Promise<T>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      try {
        start((err, result) => {
          if (!this.pending.has(fail)) return;
          this.pending.delete(fail);
          if (err) {
            const failure = classifySnmpError(err);
            reject(failure);
            // The kernel reports an ICMP error once, to whichever send or receive comes next: it
            // concerns every request in flight, not only the one that happened to see it.
            if (failure.reason === 'refused' || failure.reason === 'unreachable') this.failAll(failure);
          } else {
            this.pdus += 1;
            resolve(result as T);
          }
        });
      } catch (err) {
        fail(classifySnmpError(err));
      }
    });
  }

  /** GET of scalar instances; missing ones are left out. */
  async get(oids: string[]): Promise<Map<string, SnmpVarbind>> {
    const out = new Map<string, SnmpVarbind>();
    if (oids.length === 0) return out;
    const varbinds = await this.call<RawVarbind[]>((done) =>
      this.session.get(oids, done as unknown as snmp.GetSetCallback),
    );
    for (const vb of varbinds) {
      if (vb.type === undefined || isExceptionType(vb.type)) continue;
      out.set(normalizeOid(vb.oid), { oid: normalizeOid(vb.oid), type: vb.type, value: vb.value });
    }
    return out;
  }

  /**
   * Walks several subtrees (usually the columns of tables) together: each GETBULK asks for every
   * unfinished column, so a 20-column table of 50 rows takes a few PDUs, not 20 separate walks.
   * SNMPv1 has no GETBULK and walks column by column with GETNEXT.
   */
  async walk(
    bases: string[],
    maxRepetitions = this.target.maxRepetitions,
  ): Promise<Map<string, SnmpVarbind[]>> {
    const result = new Map<string, SnmpVarbind[]>();
    const cursor = new Map<string, string>();
    for (const b of bases) {
      const base = normalizeOid(b);
      result.set(base, []);
      cursor.set(base, base);
    }
    if (this.target.version === '1') {
      for (const base of result.keys()) await this.walkV1(base, result.get(base) as SnmpVarbind[]);
      return result;
    }
    // Varbinds asked per PDU. An agent that cannot fit the answer in one datagram truncates it (RFC 3416
    // 4.2.3) after computing it all, so the budget shrinks to what the agent returns: asking for more
    // only makes a busy agent work for nothing (snmpsim returned a third of what was asked).
    let budget = MAX_VARBINDS_PER_PDU;
    while (cursor.size > 0) {
      const active = [...cursor.keys()];
      const reps = Math.max(1, Math.min(maxRepetitions, Math.floor(budget / active.length)));
      let columns: RawVarbind[][];
      try {
        columns = await this.call<RawVarbind[][]>((done) =>
          this.session.getBulk(
            active.map((b) => cursor.get(b) as string),
            0,
            reps,
            done as unknown as snmp.GetBulkCallback,
          ),
        );
      } catch (err) {
        // tooBig instead of truncation: ask for half as much, down to one row per column
        if (err instanceof SnmpError && /TooBig/i.test(err.message) && reps > 1) {
          budget = Math.max(active.length, Math.floor((reps * active.length) / 2));
          continue;
        }
        throw err;
      }
      const received = active.reduce((n, _, i) => n + (columns[i]?.length ?? 0), 0);
      const truncated = received > 0 && received < reps * active.length;
      if (truncated) budget = Math.max(active.length, received);
      for (const [i, base] of active.entries()) {
        const got = columns[i] ?? [];
        const rows = result.get(base) as SnmpVarbind[];
        // no row for a column in a truncated answer: asked again, not ended
        let finished = got.length === 0 && !truncated;
        for (const vb of got) {
          const oid = normalizeOid(vb.oid);
          if (
            vb.type === undefined ||
            vb.type === SnmpType.EndOfMibView ||
            !oid.startsWith(`${base}.`) ||
            compareOids(oid, cursor.get(base) as string) <= 0
          ) {
            finished = true;
            break;
          }
          if (!isExceptionType(vb.type)) rows.push({ oid, type: vb.type, value: vb.value });
          cursor.set(base, oid);
        }
        if (finished) cursor.delete(base);
      }
    }
    return result;
  }

  private async walkV1(base: string, rows: SnmpVarbind[]): Promise<void> {
    let at = base;
    for (;;) {
      let varbinds: RawVarbind[];
      try {
        varbinds = await this.call<RawVarbind[]>((done) =>
          this.session.getNext([at], done as unknown as snmp.GetSetCallback),
        );
      } catch (err) {
        // v1 signals the end of the MIB view with noSuchName.
        if (err instanceof SnmpError && err.reason === 'agent_error' && /NoSuchName/i.test(err.message))
          return;
        throw err;
      }
      const vb = varbinds[0];
      if (!vb || vb.type === undefined || isExceptionType(vb.type)) return;
      const oid = normalizeOid(vb.oid);
      if (!oid.startsWith(`${base}.`) || compareOids(oid, at) <= 0) return;
      rows.push({ oid, type: vb.type, value: vb.value });
      at = oid;
    }
  }
}
