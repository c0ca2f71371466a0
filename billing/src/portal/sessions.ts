// Who holds an address billing did not assign: a subscriber whose address comes from the router's pool
// has no subscriptions.remote_address, so the portal asks the routers' /ppp/active (`?address=`), one
// print per router in parallel, and maps each session's name to its subscription on that router. A
// router that does not answer is logged and counted, and the others still decide.
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { RouterEndpoint } from '../provisioning/types.js';
import type { SecretBox } from '../secrets.js';
import type { SubscriberRow } from './page.js';
import type { PortalStore } from './store.js';

/** What the portal needs of the RouterOS gateway (RouterOsGateway.sessionsAt). */
export interface ActiveSessions {
  sessionsAt(router: RouterEndpoint, address: string): Promise<string[]>;
}

export class PoolAddressLookup {
  private readonly lookups: Counter<'outcome'>;

  constructor(
    private readonly o: {
      store: PortalStore;
      sessions: ActiveSessions;
      box: SecretBox;
      logger: Logger;
      registry: Registry;
      /** Per router; a page waits at most this long for a router's answer. */
      timeoutMs: number;
    },
  ) {
    this.lookups = new Counter({
      name: 'ispmon_billing_portal_session_lookups_total',
      help: "Isolation page addresses looked up in the routers' /ppp/active by outcome (found, none; router_failed counts routers that did not answer).",
      labelNames: ['outcome'],
      registers: [o.registry],
    });
    for (const outcome of ['found', 'none', 'router_failed']) this.lookups.inc({ outcome }, 0);
  }

  /** Live subscriptions whose PPP session holds `address` now (IPv4 only: PPP hands out IPv4 addresses). */
  async subscribersAt(address: string): Promise<SubscriberRow[]> {
    if (!isIPv4(address)) return [];
    const routers = await this.o.store.routers();
    const found = await Promise.all(
      routers.map(async (r) => {
        const endpoint: RouterEndpoint = {
          name: r.name,
          host: r.host,
          port: r.api_port,
          username: r.username,
          password: this.o.box.open(r.password_enc),
          tls: r.tls,
          timeoutMs: this.o.timeoutMs,
        };
        try {
          const names = await this.o.sessions.sessionsAt(endpoint, address);
          return names.map((name) => ({ routerId: r.id, name }));
        } catch (err) {
          this.lookups.inc({ outcome: 'router_failed' });
          this.o.logger.warn(
            { event: 'portal_session_lookup_failed', router: r.name, error: (err as Error).message },
            "the isolation page could not read a router's active sessions",
          );
          return [];
        }
      }),
    );
    const rows = await this.o.store.byRouterSessions(found.flat());
    this.lookups.inc({ outcome: rows.length ? 'found' : 'none' });
    return rows;
  }
}
