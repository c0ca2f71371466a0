// The delivery outbox both services send through (the alert router's notifications, billing's notices to
// subscribers). Each item is claimed, sent and marked on its own:
//   claim  (one statement, its own transaction): move one pending, due row into its lease
//          (2 × delivery timeout + 5 s) counting the attempt, and write the attempt row with `ok` null
//          (in flight); the condition makes the claim exclusive among replicas;
//   send   (no transaction open) with the item's stable key (the adapter puts it on the wire);
//   mark   (one statement): the attempt's outcome, then sent / retry with backoff / dead letter.
// A crash between claim and mark re-sends that one item after its lease (the receiver can drop it by
// key); a database outage during the mark is waited out, since this process knows the outcome.
// The service supplies an adapter: its tables, how to read the next due item with what its message
// needs, what to settle or defer before a claim, and how to deliver.
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

/** A failure the outbox retries later; `retryAfterMs` when the receiver said when (HTTP 429). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** The columns the mechanics read; an adapter's row carries more. */
export interface OutboxItem {
  id: string;
  channel: string;
  attempts: number;
  /** Attempts after which the item is dead-lettered (set when a dead item is put back); null: the channel's. */
  dead_after: number | null;
}

/**
 * Table names (from code, never from input). The item table has `id`, `status` ('pending', 'sent',
 * 'dead' and any settled states), `attempts`, `dead_after`, `next_attempt_at`, `last_error`, `sent_at`;
 * the attempt table has `id`, `<itemColumn>`, `at`, `ok` (null while in flight), `error`, `duration_ms`.
 */
export interface OutboxTables {
  items: string;
  attempts: string;
  itemColumn: string;
}

/** Runs one statement with `?` placeholders in its own short transaction, returning its rows. */
export type OutboxQuery = <T extends Record<string, unknown>>(sql: string, params: unknown[]) => Promise<T[]>;

/** Before a claim: settle the item in a final state, or put it off (rate limit, quiet hours). */
export type Screening =
  { settle: string; error: string; outcome: string } | { deferUntil: Date; outcome: string };

export interface OutboxAdapter<I extends OutboxItem, M> {
  tables: OutboxTables;
  query: OutboxQuery;
  logger: Logger;
  /** Noun of the log events (`<noun>_dead`, `<noun>_mark_retry`, `<noun>_mark_lost`). */
  noun: string;
  /** The next pending item with `next_attempt_at <= now`, with what its message needs. */
  next(now: Date): Promise<I | undefined>;
  /** Settle or defer before claiming (channel gone, stale, rate limited); undefined sends it. */
  screen(item: I, now: Date): Screening | undefined;
  /** The message, built once the item is claimed. */
  message(item: I): M;
  deliver(item: I, message: M, signal: AbortSignal): Promise<void>;
  timeoutMs(): number;
  /** Attempts before the dead letter when `dead_after` is not set. */
  maxAttempts(item: I): number;
  /** Counts an outcome (sent, failed, dead, or a screening's). */
  record(item: I, outcome: string): void;
  /** Ids a human needs in the dead-letter log line. */
  logFields(item: I): Record<string, unknown>;
  retry?: BackoffPolicy;
  random?: () => number;
}

export interface Claim<I, M> {
  item: I;
  attemptId: string;
  message: M;
}

/** Retry delays: 1 s, 2 s, 4 s … capped at 10 minutes, each within ±50 % (a `Retry-After` wins). */
export const OUTBOX_RETRY: BackoffPolicy = { baseMs: 1_000, maxMs: 600_000, jitter: 1 };
/** Recording an outcome through a database outage: 200 ms doubling to 5 s, no jitter. */
const MARK_RETRY: BackoffPolicy = { baseMs: 200, maxMs: 5_000, jitter: 0 };

export class Outbox<I extends OutboxItem, M> {
  private stopping = false;

  constructor(private readonly a: OutboxAdapter<I, M>) {}

  /** Stops waiting out database outages in `mark` (graceful shutdown). */
  stop(): void {
    this.stopping = true;
  }

  /**
   * Handles the next due item, if any: returns false when nothing is due. One item at a time, so at
   * most one send is in flight per process when it dies.
   */
  async deliverNext(now: Date): Promise<boolean> {
    const claimed = await this.claim(now);
    if (claimed === undefined) return false;
    if (claimed === 'handled') return true;
    const started = Date.now();
    let error: DeliveryError | undefined;
    try {
      await this.a.deliver(claimed.item, claimed.message, AbortSignal.timeout(this.a.timeoutMs()));
    } catch (err) {
      error = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message);
    }
    await this.mark(claimed, now, Date.now() - started, error);
    return true;
  }

  /**
   * Picks the next due item and claims it with one conditional statement (its own short transaction):
   * only one process can move a pending, due row into its lease, so a lost race or a state change
   * committed in between (status no longer pending) just means "next one".
   */
  private async claim(now: Date): Promise<Claim<I, M> | 'handled' | undefined> {
    const { items, attempts, itemColumn } = this.a.tables;
    const n = await this.a.next(now);
    if (!n) return undefined;
    const screening = this.a.screen(n, now);
    if (screening) {
      const [sql, params] =
        'settle' in screening
          ? [
              `update ${items} set status = ?, last_error = ? where id = ?`,
              [screening.settle, screening.error, n.id],
            ]
          : [`update ${items} set next_attempt_at = ? where id = ?`, [screening.deferUntil, n.id]];
      const done = await this.a.query(`${sql} and status = 'pending' and next_attempt_at <= ? returning id`, [
        ...params,
        now,
      ]);
      if (done.length) this.a.record(n, screening.outcome);
      return 'handled';
    }
    const lease = new Date(now.getTime() + 2 * this.a.timeoutMs() + 5_000);
    const [claimed] = await this.a.query<{ attempts: number; attempt_id: string }>(
      `with c as (
         update ${items} set attempts = attempts + 1, next_attempt_at = ?
          where id = ? and status = 'pending' and next_attempt_at <= ?
         returning id, attempts
       ), a as (
         insert into ${attempts} (${itemColumn}, at, ok) select id, ?::timestamptz, null from c returning id
       )
       select c.attempts, a.id as attempt_id from c, a`,
      [lease, n.id, now, now],
    );
    if (!claimed) return 'handled'; // another replica took it, or its state changed meanwhile
    const item = { ...n, attempts: claimed.attempts };
    return { item, attemptId: String(claimed.attempt_id), message: this.a.message(item) };
  }

  /** Records the outcome; retries through a database outage (the send happened, its record must not be lost). */
  private async mark(
    c: Claim<I, M>,
    now: Date,
    durationMs: number,
    error: DeliveryError | undefined,
  ): Promise<void> {
    const { items, attempts } = this.a.tables;
    const n = c.item;
    const limit = n.dead_after ?? this.a.maxAttempts(n);
    const outcome = !error ? 'sent' : error.permanent || n.attempts >= limit ? 'dead' : 'failed';
    // One statement (one short transaction): the attempt's outcome and the item's next state.
    const attempt = `with a as (update ${attempts} set ok = ?, error = ?, duration_ms = ? where id = ?) `;
    const attemptParams = [!error, error?.message ?? null, durationMs, c.attemptId];
    const [sql, params]: [string, unknown[]] =
      outcome === 'sent'
        ? [
            // Sent even if its state changed meanwhile: the receiver has it, the record says so.
            `update ${items} set status = 'sent', sent_at = ?, last_error = null, attempts = greatest(attempts, ?) where id = ?`,
            [now, n.attempts, n.id],
          ]
        : outcome === 'dead'
          ? [
              `update ${items} set status = 'dead', last_error = ?, attempts = greatest(attempts, ?) where id = ? and status = 'pending'`,
              [error?.message ?? null, n.attempts, n.id],
            ]
          : [
              `update ${items} set last_error = ?, next_attempt_at = ?, attempts = greatest(attempts, ?) where id = ? and status = 'pending'`,
              [
                error?.message ?? null,
                new Date(
                  now.getTime() +
                    (error?.retryAfterMs ??
                      backoffDelay(n.attempts, this.a.retry ?? OUTBOX_RETRY, this.a.random)),
                ),
                n.attempts,
                n.id,
              ],
            ];
    for (let failures = 1; ; failures += 1) {
      try {
        await this.a.query(attempt + sql, [...attemptParams, ...params]);
        break;
      } catch (err) {
        this.a.logger.warn(
          { event: `${this.a.noun}_mark_retry`, [this.a.noun]: n.id, error: (err as Error).message },
          'could not record a delivery outcome; retrying',
        );
        if (this.stopping) {
          this.a.logger.error(
            { event: `${this.a.noun}_mark_lost`, [this.a.noun]: n.id, outcome },
            `shutting down before the outcome was recorded; the ${this.a.noun} will be sent again after its lease`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, backoffDelay(failures, MARK_RETRY)));
      }
    }
    this.a.record(n, outcome);
    if (outcome === 'dead')
      this.a.logger.error(
        { ...this.a.logFields(n), event: `${this.a.noun}_dead`, channel: n.channel, error: error?.message },
        `${this.a.noun} dead-lettered`,
      );
  }
}

/**
 * POSTs one message to an HTTP receiver with the item's stable key as `Idempotency-Key`, so a receiver
 * can drop the repeat a crash causes. 429 → retry (after `Retry-After` when given); other 4xx → permanent
 * (a bad token or number does not get better by retrying); 5xx and network errors → retry.
 */
export async function postWithKey(
  url: string,
  o: { body: string; headers: Record<string, string>; key: string; what: string; signal: AbortSignal },
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: o.body,
      headers: { ...o.headers, 'idempotency-key': o.key },
      signal: o.signal,
    });
  } catch (err) {
    throw new DeliveryError(`${o.what}: ${(err as Error).message}`);
  }
  if (res.status === 429) {
    const retry = Number(res.headers.get('retry-after') ?? '');
    await res.arrayBuffer();
    throw new DeliveryError(
      `${o.what}: rate limited (429)`,
      Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined,
    );
  }
  if (!res.ok) {
    const text = (await res.text()).slice(0, 200);
    throw new DeliveryError(
      `${o.what}: HTTP ${res.status} ${text}`,
      undefined,
      res.status >= 400 && res.status < 500,
    );
  }
  return res;
}
