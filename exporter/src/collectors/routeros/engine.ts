// Runs a module's RouterOS collectors against one router: every command of the scrape is sent at once
// over the kept-open connection (pipelined with `.tag`), each collector reports its own success and
// duration, and an unreachable router yields `mikrotik_up 0` instead of missing series. A command the
// router refuses costs only that command's data: the collector gets `undefined` for it and exports the rest.
import type { MetricFamily } from '../../exposition.js';
import {
  RouterOsError,
  type RouterEndpoint,
  type RouterOsFailure,
  type RouterOsRow,
  type RouterPool,
} from '@ispmon/routeros';
import type { RouterOsCollector, RouterOsModuleOptions } from './types.js';

/** One command of one collector in this scrape, and how it ended. */
export interface CommandRun {
  collector: string;
  /** The RouterOS menu printed, e.g. `/interface/ethernet`. */
  command: string;
  error?: RouterOsError;
}

export interface CollectorRun {
  collector: string;
  /** True only when every command of the collector answered. */
  success: boolean;
  durationSeconds: number;
  /** The first failed command's error, if any. */
  error?: RouterOsError;
}

export interface RouterScrape {
  families: MetricFamily[];
  up: boolean;
  runs: CollectorRun[];
  commands: CommandRun[];
  failure?: RouterOsFailure;
  /** Commands this scrape wrote to the router (logins not counted). */
  requests: number;
}

const asRouterOsError = (err: unknown): RouterOsError =>
  err instanceof RouterOsError ? err : new RouterOsError('protocol', (err as Error).message);

export async function scrapeRouter(
  pool: RouterPool,
  endpoint: RouterEndpoint,
  collectors: readonly RouterOsCollector[],
  options: RouterOsModuleOptions,
): Promise<RouterScrape> {
  const started = performance.now();
  let requests = 0;
  let failure: RouterOsFailure | undefined;
  let runs: CollectorRun[] = [];
  const commands: CommandRun[] = [];
  const families: MetricFamily[] = [];
  try {
    const session = await pool.session(endpoint);
    runs = await Promise.all(
      collectors.map(async (collector): Promise<CollectorRun> => {
        const t0 = performance.now();
        const own: CommandRun[] = [];
        const results: Array<RouterOsRow[] | undefined> = await Promise.all(
          collector.commands(options).map(async (c) => {
            const run: CommandRun = { collector: collector.name, command: c.path };
            own.push(run);
            try {
              return await session.print(c.path, {
                ...(c.proplist ? { proplist: c.proplist } : {}),
                ...(c.queries ? { queries: c.queries } : {}),
                timeoutMs: endpoint.timeoutMs,
              });
            } catch (err) {
              run.error = asRouterOsError(err);
              return undefined;
            }
          }),
        );
        commands.push(...own);
        const firstError = own.find((r) => r.error)?.error;
        let error = firstError;
        if (results.some((r) => r !== undefined)) {
          try {
            families.push(...collector.collect(results, options));
          } catch (err) {
            error ??= asRouterOsError(err);
          }
        }
        return {
          collector: collector.name,
          success: error === undefined,
          durationSeconds: (performance.now() - t0) / 1000,
          ...(error ? { error } : {}),
        };
      }),
    );
    requests = session.sent;
    // Every command failing on a broken connection (not a refusal) means the router is down for this scrape.
    const broken = commands.find((r) => r.error && r.error.reason !== 'trap');
    if (broken && commands.every((r) => r.error)) failure = broken.error?.reason;
  } catch (err) {
    failure = err instanceof RouterOsError ? err.reason : 'closed';
    runs = collectors.map((c) => ({
      collector: c.name,
      success: false,
      durationSeconds: 0,
      ...(err instanceof RouterOsError ? { error: err } : {}),
    }));
  }
  const up = failure === undefined;
  families.push(
    {
      name: 'mikrotik_up',
      help: 'Whether the RouterOS API of the router answered this scrape, 1 or 0.',
      type: 'gauge',
      samples: [{ value: up ? 1 : 0 }],
    },
    {
      name: 'mikrotik_scrape_collector_success',
      help: 'Whether every command of a collector answered in this scrape, 1 or 0.',
      type: 'gauge',
      samples: runs.map((r) => ({ labels: { collector: r.collector }, value: r.success ? 1 : 0 })),
    },
    {
      name: 'mikrotik_scrape_collector_duration_seconds',
      help: 'Time a collector took in this scrape.',
      type: 'gauge',
      samples: runs.map((r) => ({ labels: { collector: r.collector }, value: r.durationSeconds })),
    },
    {
      name: 'mikrotik_scrape_duration_seconds',
      help: 'Time the whole scrape of the router took.',
      type: 'gauge',
      samples: [{ value: (performance.now() - started) / 1000 }],
    },
  );
  if (up) {
    families.push({
      name: 'mikrotik_scrape_command_success',
      help: 'Whether a RouterOS command of a collector answered in this scrape, 1 or 0 (its data is missing).',
      type: 'gauge',
      samples: commands.map((c) => ({
        labels: { collector: c.collector, command: c.command },
        value: c.error ? 0 : 1,
      })),
    });
  } else {
    families.push({
      name: 'mikrotik_scrape_error',
      help: 'Why the scrape failed (always 1; the reason is the label).',
      type: 'gauge',
      samples: [{ labels: { reason: failure as string }, value: 1 }],
    });
  }
  return { families, up, runs, commands, requests, ...(failure ? { failure } : {}) };
}
