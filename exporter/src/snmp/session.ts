// The SNMP client edge: one net-snmp session per scrape (v1/v2c community or v3 USM), GETBULK table
// walks of several columns per PDU, scalar GETs, a hard deadline, and errors reduced to a typed reason.
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
  timeoutMs: number;
}

/** Why a request failed; becomes the `reason` label of `snmp_scrape_error` and the self-metrics. */
export type SnmpFailureReason =
  'timeout' | 'auth' | 'refused' | 'unreachable' | 'resolve' | 'agent_error' | 'protocol';

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
  if (e?.name === 'RequestTimedOutError') return new SnmpError('timeout', 'no answer from the agent');
  if (e?.code === 'ECONNREFUSED') return new SnmpError('refused', 'agent port unreachable (ICMP refused)');
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

/** An open session to one agent with a deadline; close() always. */
export class SnmpSession {
  private readonly session: snmp.Session;
  private readonly deadline: number;
  private closed = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly timer: NodeJS.Timeout;
  /** PDUs answered in this session (for the scrape's self-metrics). */
  pdus = 0;

  constructor(
    readonly target: SnmpTarget,
    signal?: AbortSignal,
  ) {
    this.deadline = Date.now() + target.timeoutMs;
    // Two tries per request within the budget; the deadline timer bounds the whole walk.
    const options = {
      port: target.port,
      retries: 1,
      timeout: Math.max(100, Math.floor(target.timeoutMs / 2)),
      backoff: 1,
      idBitsSize: 32 as const,
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
      this.session = snmp.createV3Session(target.host, user, { ...options, version: snmp.Version3 });
    } else {
      this.session = snmp.createSession(target.host, target.community ?? 'public', {
        ...options,
        version: target.version === '1' ? snmp.Version1 : snmp.Version2c,
      });
    }
    // Socket errors (e.g. ICMP port unreachable) arrive here, not on the request.
    this.session.on('error', (err: Error) => this.failAll(classifySnmpError(err)));
    this.timer = setTimeout(
      () => this.failAll(new SnmpError('timeout', `no complete answer within ${target.timeoutMs} ms`)),
      target.timeoutMs,
    );
    signal?.addEventListener('abort', () => this.failAll(new SnmpError('timeout', 'scrape aborted')), {
      once: true,
    });
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
    try {
      this.session.close();
    } catch {
      // already closed
    }
  }

  private call<T>(start: (done: (err: Error | null, result?: T) => void) => void): Promise<T> {
    if (this.closed || Date.now() >= this.deadline)
      return Promise.reject(
        new SnmpError('timeout', `no complete answer within ${this.target.timeoutMs} ms`),
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
          if (err) reject(classifySnmpError(err));
          else {
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
    while (cursor.size > 0) {
      const active = [...cursor.keys()];
      const reps = Math.max(1, Math.min(maxRepetitions, Math.floor(MAX_VARBINDS_PER_PDU / active.length)));
      const columns = await this.call<RawVarbind[][]>((done) =>
        this.session.getBulk(
          active.map((b) => cursor.get(b) as string),
          0,
          reps,
          done as unknown as snmp.GetBulkCallback,
        ),
      );
      for (const [i, base] of active.entries()) {
        const got = columns[i] ?? [];
        const rows = result.get(base) as SnmpVarbind[];
        let finished = got.length === 0;
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
