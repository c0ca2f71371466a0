// Which replica runs a singleton job: a PostgreSQL session advisory lock per job, taken on one dedicated
// connection and kept while the replica lives. Other replicas skip their rounds. A graceful stop unlocks;
// a killed replica's connection closes and PostgreSQL ends its session, which releases the lock, so the
// next replica to tick takes the job over (no lease to expire, no clock to trust). If only the lock's
// connection drops (PostgreSQL restarted) while a round runs, another replica may start the job before that
// round ends: the jobs marked singleton must stay idempotent (the billing cycle also has its own xact lock).
import pg from 'pg';
import type { Logger } from 'pino';

export interface JobLock {
  /** True when this replica holds the job's lock (taking it now if it is free). */
  hold(job: string): Promise<boolean>;
  /** Gives every lock back (the connection closes); the lock stays usable and reconnects on the next hold. */
  close(): Promise<void>;
}

/** Session advisory locks keyed by hashtextextended('<namespace>:<job>') (advisory keys are per database). */
export class AdvisoryJobLock implements JobLock {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly held = new Set<string>();

  constructor(
    private readonly databaseUrl: string,
    private readonly namespace: string,
    private readonly logger: Logger,
  ) {}

  async hold(job: string): Promise<boolean> {
    let client: pg.Client | undefined;
    try {
      client = await this.connection();
      // A live session keeps its locks; the round trip proves the session is still alive.
      if (this.held.has(job)) {
        await client.query('select 1');
        return this.held.has(job);
      }
      const r = await client.query<{ ok: boolean }>(
        'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok',
        [`${this.namespace}:${job}`],
      );
      if (r.rows[0]?.ok !== true) return false;
      this.held.add(job);
      return true;
    } catch (err) {
      this.logger.warn(
        { event: 'job_lock_unavailable', job, error: (err as Error).message },
        `cannot reach PostgreSQL for the lock of job ${job}; skipping its round`,
      );
      if (client) this.lost(client);
      return false;
    }
  }

  async close(): Promise<void> {
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    if (!client || this.client !== client) return;
    this.held.clear();
    this.client = undefined;
    await client.end().catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.databaseUrl,
        // A dead peer (host gone without closing the socket) is noticed by TCP keepalive, not only by a query.
        keepAlive: true,
        application_name: `${this.namespace} job lock`,
      });
      client.on('error', () => this.lost(client));
      client.on('end', () => this.lost(client));
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** The session is gone, and every lock with it. */
  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.held.size)
      this.logger.warn(
        { event: 'job_lock_lost', jobs: [...this.held] },
        'lost the job lock connection; another replica may take these jobs',
      );
    this.held.clear();
    void client.end().catch(() => undefined);
  }
}
