// Periodic jobs of a service (delivery rounds, cycles, syncs, purges): each runs alone (never overlapping
// itself), can be run now on demand, logs its failures, and stops gracefully (the running round finishes).
import type { Logger } from 'pino';

export interface PeriodicJob<T = unknown> {
  name: string;
  /** Period in ms; 0 runs the job only on demand (tests drive it by hand). */
  everyMs: number;
  run(now: Date): Promise<T>;
}

export class JobRunner {
  private readonly jobs = new Map<string, PeriodicJob>();
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  add(job: PeriodicJob): this {
    if (this.jobs.has(job.name)) throw new Error(`job '${job.name}' is already registered`);
    this.jobs.set(job.name, job);
    return this;
  }

  /** Starts the timers; a job's first round runs after one period. A tick while a round runs is skipped
   *  (a slow round does not queue up more rounds behind it). */
  start(): void {
    for (const job of this.jobs.values()) {
      if (job.everyMs <= 0) continue;
      const timer = setInterval(() => {
        if (this.stopping || this.running.has(job.name)) return;
        void this.runNow(job.name).catch(() => undefined);
      }, job.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Runs the job now, after the round in progress (if any); failures are logged and rethrown. */
  async runNow<T>(name: string, now?: Date): Promise<T> {
    const job = this.jobs.get(name) as PeriodicJob<T> | undefined;
    if (!job) throw new Error(`no job named '${name}'`);
    for (let current = this.running.get(name); current; current = this.running.get(name))
      await current.catch(() => undefined);
    const round = (async () => {
      try {
        return await job.run(now ?? this.clock());
      } catch (err) {
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
  }
}
