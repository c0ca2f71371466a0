// Periodic jobs of a service (delivery rounds, cycles, syncs, purges): each runs alone (never overlapping
// itself), can be run now on demand, logs its failures, and stops gracefully (the running round finishes).
// A singleton job runs on one replica at a time: the one holding its JobLock; the others skip their rounds.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { JobLock } from './job-lock.js';

export interface PeriodicJob<T = unknown> {
  name: string;
  /** Period in ms; 0 runs the job only on demand (tests drive it by hand). */
  everyMs: number;
  /** Runs on one replica at a time (the runner's lock decides which); without a lock, on this process. */
  singleton?: boolean;
  run(now: Date): Promise<T>;
}

export interface JobRunnerOptions {
  /** Decides which replica runs the singleton jobs; the runner closes it on stop. */
  lock?: JobLock;
  /** Where to count rounds (ispmon_job_rounds_total) and show held singletons (ispmon_job_singleton_held). */
  registry?: Registry;
}

/** An on-demand run of a singleton job that another replica holds. */
export class JobHeldElsewhereError extends Error {
  constructor(readonly job: string) {
    super(`job '${job}' runs on another replica (or this one is stopping); it was not run here`);
    this.name = 'JobHeldElsewhereError';
  }
}

export class JobRunner {
  private readonly jobs = new Map<string, PeriodicJob>();
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly ticking = new Set<string>();
  private readonly leading = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private readonly rounds: Counter<'job_name' | 'outcome'> | undefined;
  private readonly held: Gauge<'job_name'> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly o: JobRunnerOptions = {},
  ) {
    if (o.registry) {
      this.rounds = new Counter({
        name: 'ispmon_job_rounds_total',
        help: 'Rounds of periodic jobs: ok, failed, or skipped (a singleton job held by another replica).',
        labelNames: ['job_name', 'outcome'],
        registers: [o.registry],
      });
      this.held = new Gauge({
        name: 'ispmon_job_singleton_held',
        help: 'Whether this replica holds a singleton job (1) or another replica does or none can (0).',
        labelNames: ['job_name'],
        registers: [o.registry],
      });
    }
  }

  add(job: PeriodicJob): this {
    if (this.jobs.has(job.name)) throw new Error(`job '${job.name}' is already registered`);
    this.jobs.set(job.name, job);
    for (const outcome of ['ok', 'failed', 'skipped']) this.rounds?.inc({ job_name: job.name, outcome }, 0);
    if (job.singleton) this.held?.set({ job_name: job.name }, 0);
    return this;
  }

  /** Starts the timers; a job's first round runs after one period. A tick while a round runs is skipped
   *  (a slow round does not queue up more rounds behind it). */
  start(): void {
    for (const job of this.jobs.values()) {
      if (job.everyMs <= 0) continue;
      const timer = setInterval(() => {
        if (this.stopping || this.running.has(job.name) || this.ticking.has(job.name)) return;
        this.ticking.add(job.name);
        void this.tick(job.name).finally(() => this.ticking.delete(job.name));
      }, job.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** A timer's round: a singleton job held by another replica is skipped (counted, not logged). */
  private async tick(name: string): Promise<void> {
    try {
      await this.runNow(name);
    } catch (err) {
      if (err instanceof JobHeldElsewhereError) this.rounds?.inc({ job_name: name, outcome: 'skipped' });
    }
  }

  /** Whether this replica may run the job now (always, unless it is a singleton held elsewhere). */
  private async mayRun(job: PeriodicJob): Promise<boolean> {
    if (!job.singleton || !this.o.lock) return true;
    if (this.stopping) return false; // a stopping replica gives its singletons away, it does not take them
    const holds = await this.o.lock.hold(job.name);
    if (holds !== this.leading.has(job.name)) {
      if (holds) this.leading.add(job.name);
      else this.leading.delete(job.name);
      this.held?.set({ job_name: job.name }, holds ? 1 : 0);
      this.logger.info(
        { event: holds ? 'job_singleton_taken' : 'job_singleton_lost', job: job.name },
        holds ? `this replica now runs job ${job.name}` : `job ${job.name} left this replica`,
      );
    }
    return holds;
  }

  /** Runs the job now, after the round in progress (if any); failures are logged and rethrown. A singleton
   *  job held by another replica throws JobHeldElsewhereError instead. */
  async runNow<T>(name: string, now?: Date): Promise<T> {
    const job = this.jobs.get(name) as PeriodicJob<T> | undefined;
    if (!job) throw new Error(`no job named '${name}'`);
    // Only a singleton waits for its lock; other jobs start synchronously, as before.
    if (job.singleton && this.o.lock && !(await this.mayRun(job))) throw new JobHeldElsewhereError(name);
    for (let current = this.running.get(name); current; current = this.running.get(name))
      await current.catch(() => undefined);
    const round = (async () => {
      try {
        const result = await job.run(now ?? this.clock());
        this.rounds?.inc({ job_name: name, outcome: 'ok' });
        return result;
      } catch (err) {
        this.rounds?.inc({ job_name: name, outcome: 'failed' });
        this.logger.error(
          { event: 'job_failed', job: name, error: (err as Error).message },
          `job ${name} failed`,
        );
        throw err;
      }
    })();
    this.running.set(name, round);
    try {
      return await round;
    } finally {
      if (this.running.get(name) === round) this.running.delete(name);
    }
  }

  /** Stops the timers and waits up to `graceMs` for running rounds to finish. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const rounds = [...this.running.values()].map((r) => r.catch(() => undefined));
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(rounds),
      new Promise((resolve) => {
        timeout = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timeout);
    // Singleton jobs go to another replica at once rather than when PostgreSQL notices this one is gone.
    await this.o.lock?.close();
    this.leading.clear();
    for (const job of this.jobs.values()) if (job.singleton) this.held?.set({ job_name: job.name }, 0);
  }
}
