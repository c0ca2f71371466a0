// Builds and runs billing: HTTP server plus its jobs (router sync, billing cycle, Midtrans status
// poll, drift report, inventory files). Used by main.ts, the demo and the tests.
import type { Server } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { AdvisoryJobLock, JobRunner, listenHttp } from '@ispmon/service-kit';
import { createApp, mountedRoutes, type ApiExtension, type MountedRoute } from './app.js';
import { BillingCycle } from './cycle.js';
import { openBillingDatabase } from './db/orm.js';
import { InventoryWriter } from './inventory.js';
import { InvoiceService } from './invoices.js';
import { BillingMetrics } from './metrics.js';
import { MidtransGateway } from './payments/snap.js';
import { PaymentService } from './payments/service.js';
import { billingPolicySchema, type BillingPolicy } from './policy.js';
import { RouterOsGateway } from './provisioning/routeros-gateway.js';
import type { RouterGateway } from './provisioning/types.js';
import { customerSpec, linkSpec, ResourceStore, routerSpec } from './resources.js';
import { SecretBox } from './secrets.js';
import { issueToken } from './tokens.js';
import { SubscriptionService } from './subscriptions.js';
import { RouterSync } from './sync.js';
import { PrometheusClient } from './prometheus/client.js';
import type { EngineSetting } from './prometheus/engine.js';
import { UsageService } from './usage.js';

export interface MidtransOptions {
  serverKey: string;
  clientKey?: string;
  isProduction: boolean;
  snapBaseUrl?: string;
  coreBaseUrl?: string;
}

export interface RuntimeOptions {
  databaseUrl: string;
  host?: string;
  port: number;
  logger: Logger;
  encryptionKey: string;
  policy?: Partial<BillingPolicy>;
  midtrans?: MidtransOptions;
  prometheusUrl?: string;
  /** PROMETHEUS_ENGINE: the engine behind prometheusUrl (default prometheus). */
  prometheusEngine?: EngineSetting;
  inventoryDir?: string;
  gateway?: RouterGateway;
  clock?: () => Date;
  /** Bootstraps staff user `admin` with this token before the server accepts requests. */
  adminToken?: string;
  /** Job periods in ms; 0 turns a job off (tests drive it by hand). */
  jobs?: { syncMs?: number; cycleMs?: number; pollMs?: number; driftMs?: number };
  extensions?: (deps: RuntimeDeps) => ApiExtension[];
}

export interface RuntimeDeps {
  orm: MikroORM;
  logger: Logger;
  metrics: BillingMetrics;
  box: SecretBox;
  clock: () => Date;
  /** The periodic jobs; an extension registers its own (started with billing's, stopped before it). */
  jobs: JobRunner;
}

export interface Runtime {
  url: string;
  /** Every route the HTTP server mounted (the OpenAPI document must name exactly these). */
  routes: MountedRoute[];
  orm: MikroORM;
  metrics: BillingMetrics;
  policy: BillingPolicy;
  resources: ResourceStore;
  subscriptions: SubscriptionService;
  invoices: InvoiceService;
  cycle: BillingCycle;
  sync: RouterSync;
  payments: PaymentService;
  inventory: InventoryWriter | undefined;
  extensions: ApiExtension[];
  /** Runs router sync rounds until nothing is due (tests and the API call this). */
  syncNow(now?: Date): Promise<{ synced: number; failed: number }>;
  stop(graceMs?: number): Promise<void>;
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const policy = billingPolicySchema.parse(o.policy ?? {});
  const clock = o.clock ?? (() => new Date());
  const box = new SecretBox(o.encryptionKey);
  const orm = await openBillingDatabase(o.databaseUrl);
  if (o.adminToken) await issueToken(orm, 'admin', 'admin', o.adminToken, 'bootstrap');
  const metrics = new BillingMetrics();
  const gateway = o.gateway ?? new RouterOsGateway();
  const inventory = o.inventoryDir ? new InventoryWriter(orm, box, o.inventoryDir) : undefined;
  const writeInventory = async (): Promise<void> => {
    if (!inventory) return;
    try {
      const r = await inventory.write();
      if (r.changed.length)
        o.logger.info(
          { event: 'inventory_written', routers: r.routers, probes: r.probes, files: r.changed.length },
          'monitoring inventory updated',
        );
    } catch (err) {
      o.logger.error(
        { event: 'inventory_write_failed', error: (err as Error).message },
        'could not write monitoring inventory',
      );
    }
  };

  // Periodic jobs; a period of 0 registers the job for runNow only (tests drive it by hand). Replicas: router
  // sync claims its rows (FOR UPDATE SKIP LOCKED with a lease), so every replica runs it; the others are
  // singletons (one replica at a time, the holder of the job's advisory lock).
  const jobs = new JobRunner(o.logger, clock, {
    lock: new AdvisoryJobLock(o.databaseUrl, 'billing', o.logger),
    registry: metrics.registry,
  });
  const period = (ms: number | undefined, fallback: number): number => ms ?? fallback;
  const sync = new RouterSync(orm, gateway, box, metrics, o.logger);
  jobs.add({
    name: 'router_sync',
    everyMs: period(o.jobs?.syncMs, 2_000),
    // Rounds until nothing is due, or a round makes no progress (routers unreachable), or stop.
    run: async (now) => {
      const total = { synced: 0, failed: 0 };
      for (;;) {
        const r = await sync.round(now);
        total.synced += r.synced;
        total.failed += r.failed;
        if (r.claimed === 0 || r.synced === 0 || jobs.isStopping) return total;
      }
    },
  });
  const syncNow = (now?: Date): Promise<{ synced: number; failed: number }> =>
    jobs.runNow('router_sync', now);
  // A change the routers must follow starts a sync round at once (unless sync is driven by hand).
  const kick = (): void => {
    if (o.jobs?.syncMs === 0) return;
    void syncNow().catch(() => undefined); // the runner logs the failure
  };
  // Customer codes label probe targets, so customers count too; plans do not reach monitoring.
  const resources = new ResourceStore(orm, box, async (spec) => {
    if (spec === routerSpec || spec === linkSpec || spec === customerSpec) await writeInventory();
  });
  const invoices = new InvoiceService(orm, policy, metrics, kick);
  const subscriptions = new SubscriptionService(orm, box, policy, metrics, kick);
  const cycle = new BillingCycle(orm, policy, metrics, kick);
  const midtrans = o.midtrans ? new MidtransGateway(o.midtrans) : undefined;
  const payments = new PaymentService(
    orm,
    midtrans,
    o.midtrans?.serverKey,
    invoices,
    policy,
    metrics,
    o.logger,
  );
  const usage = new UsageService(
    orm,
    o.prometheusUrl
      ? new PrometheusClient({
          url: o.prometheusUrl,
          timeoutMs: 15_000,
          engine: o.prometheusEngine ?? 'prometheus',
        })
      : undefined,
  );
  const deps: RuntimeDeps = { orm, logger: o.logger, metrics, box, clock, jobs };
  const extensions = o.extensions?.(deps) ?? [];
  const app = createApp({
    orm,
    stopping: () => jobs.isStopping,
    logger: o.logger,
    metrics,
    resources,
    subscriptions,
    invoices,
    cycle,
    sync,
    payments,
    usage,
    clock,
    extensions,
  });
  const server: Server = await listenHttp(app, o.port, o.host ?? '127.0.0.1');
  const address = server.address();
  const url = `http://${o.host === '0.0.0.0' ? '127.0.0.1' : (o.host ?? '127.0.0.1')}:${typeof address === 'object' && address ? address.port : o.port}`;
  await writeInventory();

  jobs.add({
    name: 'billing_cycle',
    everyMs: period(o.jobs?.cycleMs, 3_600_000),
    singleton: true,
    run: async (now) => {
      try {
        const r = await cycle.run(now);
        metrics.cycleRuns.inc({ outcome: 'ok' });
        o.logger.info(
          {
            event: 'billing_cycle',
            issued: r.invoicesIssued.count,
            overdue: r.invoicesOverdue.count,
            suspended: r.subscriptionsSuspended.count,
            expired: r.subscriptionsExpired.count,
            duration_ms: r.durationMs,
          },
          'billing cycle ran',
        );
      } catch (err) {
        metrics.cycleRuns.inc({ outcome: 'failed' });
        throw err;
      }
    },
  });
  jobs.add({
    name: 'midtrans_poll',
    everyMs: period(o.jobs?.pollMs, 300_000),
    singleton: true,
    run: (now) => payments.pollPending(now),
  });
  jobs.add({
    name: 'drift_report',
    everyMs: period(o.jobs?.driftMs, 3_600_000),
    singleton: true,
    run: async () => {
      const routers = (await orm.em.fork().execute('select id from routers', [], 'all')) as Array<{
        id: string;
      }>;
      for (const r of routers) {
        const d = await sync.drift(r.id).catch(() => undefined);
        if (d?.drift.length)
          o.logger.warn(
            { event: 'router_drift', router: d.router, secrets: d.drift.length },
            'router differs from the database',
          );
      }
    },
  });
  jobs.start();
  kick();
  for (const e of extensions) e.start?.();

  return {
    url,
    orm,
    metrics,
    policy,
    resources,
    subscriptions,
    invoices,
    cycle,
    sync,
    payments,
    inventory,
    extensions,
    routes: mountedRoutes(app),
    syncNow,
    async stop(graceMs = 10_000): Promise<void> {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.race([
        Promise.all([closed, jobs.stop(graceMs)]),
        new Promise((r) => setTimeout(r, graceMs).unref()),
      ]);
      server.closeAllConnections();
      await Promise.all(extensions.map((e) => e.stop?.()));
      await gateway.close();
      await orm.close();
    },
  };
}
