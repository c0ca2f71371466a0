// Runs a module's RouterOS collectors against one router: every command of the scrape is sent at once
// over the kept-open connection (pipelined with `.tag`), each collector reports its own success and
// duration, and an unreachable router yields `mikrotik_up 0` instead of missing series.
import type { MetricFamily } from '../../exposition.js';
import { RouterOsError, type RouterOsFailure, type RouterOsRow } from '../../routeros/client.js';
import type { RouterConnections, RouterEndpoint } from '../../routeros/connections.js';
import type { RouterOsCollector, RouterOsModuleOptions } from './types.js';

export interface CollectorRun {
  collector: string;
  success: boolean;
  durationSeconds: number;
  error?: RouterOsError;
}

export interface RouterScrape {
  families: MetricFamily[];
  up: boolean;
  runs: CollectorRun[];
  failure?: RouterOsFailure;
  requests: number;
}

export async function scrapeRouter(
  connections: RouterConnections,
  endpoint: RouterEndpoint,
  collectors: readonly RouterOsCollector[],
  options: RouterOsModuleOptions,
): Promise<RouterScrape> {
  const started = performance.now();
  let requests = 0;
  let failure: RouterOsFailure | undefined;
  let runs: CollectorRun[] = [];
  const families: MetricFamily[] = [];
  try {
    const client = await connections.get(endpoint);
    const before = client.requests;
    runs = await Promise.all(
      collectors.map(async (collector): Promise<CollectorRun> => {
        const t0 = performance.now();
        try {
          const results: RouterOsRow[][] = await Promise.all(
            collector.commands(options).map((c) =>
              client.print(c.path, {
                ...(c.proplist ? { proplist: c.proplist } : {}),
                ...(c.queries ? { queries: c.queries } : {}),
                timeoutMs: endpoint.timeoutMs,
              }),
            ),
          );
          families.push(...collector.collect(results, options));
          return {
            collector: collector.name,
            success: true,
            durationSeconds: (performance.now() - t0) / 1000,
          };
        } catch (err) {
          const error =
            err instanceof RouterOsError ? err : new RouterOsError('protocol', (err as Error).message);
          return {
            collector: collector.name,
            success: false,
            durationSeconds: (performance.now() - t0) / 1000,
            error,
          };
        }
      }),
    );
    requests = client.requests - before;
    // If every collector failed on a broken connection, the router is down for this scrape.
    const broken = runs.find((r) => r.error && r.error.reason !== 'trap');
    if (broken && runs.every((r) => !r.success)) failure = broken.error?.reason;
  } catch (err) {
    failure = err instanceof RouterOsError ? err.reason : 'closed';
    runs = collectors.map((c) => ({
      collector: c.name,
      success: false,
      durationSeconds: 0,
      error: err instanceof RouterOsError ? err : undefined,
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
      help: 'Whether a collector succeeded in this scrape, 1 or 0.',
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
  if (failure) {
    families.push({
      name: 'mikrotik_scrape_error',
      help: 'Why the scrape failed (always 1; the reason is the label).',
      type: 'gauge',
      samples: [{ labels: { reason: failure }, value: 1 }],
    });
  }
  return { families, up, runs, requests, ...(failure ? { failure } : {}) };
}
