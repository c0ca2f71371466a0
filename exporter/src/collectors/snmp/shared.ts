// Scrapes of the same SNMP target and module that overlap (an HA Prometheus pair scraping the same
// device) share one walk: the agent, often a slow control-plane CPU, answers it once, not once per
// scraper. Each client keeps its own deadline and hang-up; the walk stops when no client is left.
import type { SnmpTarget } from '../../snmp/session.js';
import { SnmpError } from '../../snmp/session.js';
import {
  DEFAULT_SCRAPE_DEADLINE_MS,
  failedScrape,
  scrapeSnmpTarget,
  type SnmpScrape,
  type SnmpScrapeOptions,
} from './engine.js';
import type { SnmpModule } from './types.js';

interface Walk {
  result: Promise<SnmpScrape>;
  clients: number;
  stop: AbortController;
}

export class SharedSnmpScrapes {
  private readonly walks = new Map<string, Walk>();

  /** Walks in flight (for tests and self-metrics). */
  get inFlight(): number {
    return this.walks.size;
  }

  /**
   * Scrapes `target` for `modules`, joining a walk already in flight under the same `key` (target and
   * module). The walk runs to the deadline of the client that started it; a client whose own deadline or
   * hang-up comes first is answered (or dropped) then, without stopping the walk for the others.
   */
  async scrape(
    key: string,
    target: SnmpTarget,
    modules: readonly SnmpModule[],
    options: SnmpScrapeOptions = {},
  ): Promise<SnmpScrape> {
    const started = performance.now();
    const deadlineMs = options.deadlineMs ?? DEFAULT_SCRAPE_DEADLINE_MS;
    let walk = this.walks.get(key);
    if (!walk) {
      const stop = new AbortController();
      const result = scrapeSnmpTarget(target, modules, { signal: stop.signal, deadlineMs });
      const created: Walk = { result, clients: 0, stop };
      this.walks.set(key, created);
      void result.finally(() => {
        if (this.walks.get(key) === created) this.walks.delete(key);
      });
      walk = created;
    }
    const joined = walk;
    joined.clients += 1;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        joined.result,
        new Promise<SnmpScrape>((resolve) => {
          timer = setTimeout(
            () =>
              resolve(
                failedScrape(
                  modules,
                  new SnmpError(
                    'timeout',
                    `scrape deadline of ${deadlineMs} ms passed before the walk finished`,
                  ),
                  started,
                ),
              ),
            deadlineMs,
          );
          onAbort = () =>
            resolve(
              failedScrape(
                modules,
                new SnmpError('aborted', 'the scrape was abandoned by its client'),
                started,
              ),
            );
          if (options.signal?.aborted) onAbort();
          else options.signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      joined.clients -= 1;
      // nobody waits for this walk any more: stop asking the agent
      if (joined.clients === 0) {
        joined.stop.abort();
        if (this.walks.get(key) === joined) this.walks.delete(key);
      }
    }
  }
}
