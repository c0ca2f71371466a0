// Reports RouterOS commands that failed while the router answered (a refused menu, a missing
// permission): a counter per target, command and reason, and a warning that names router, command and
// the router's own message — at most once per command per interval, so a router refusing a menu on
// every scrape does not flood the log.
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { CommandRun } from './engine.js';

export class CommandFailureLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly errors: Counter<'target' | 'command' | 'reason'>,
    private readonly intervalMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  report(target: string, commands: readonly CommandRun[]): void {
    for (const run of commands) {
      const error = run.error;
      if (!error) continue;
      this.errors.inc({ target, command: run.command, reason: error.reason });
      const key = JSON.stringify([target, run.collector, run.command]);
      const seen = this.last.get(key);
      const now = this.now();
      if (seen && now - seen.at < this.intervalMs) {
        seen.suppressed += 1;
        continue;
      }
      this.last.set(key, { at: now, suppressed: 0 });
      this.logger.warn(
        {
          event: 'routeros_command_failed',
          target,
          collector: run.collector,
          command: run.command,
          reason: error.reason,
          routerMessage: error.message,
          ...(seen ? { suppressedSinceLast: seen.suppressed } : {}),
        },
        `router ${target}: ${run.command} failed (${error.reason}): ${error.message}`,
      );
    }
  }

  /** Forgets routers no longer configured. */
  retain(targets: ReadonlySet<string>): void {
    for (const key of this.last.keys()) {
      const [target] = JSON.parse(key) as [string];
      if (!targets.has(target)) this.last.delete(key);
    }
  }
}
