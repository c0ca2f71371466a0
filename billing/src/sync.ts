// Makes routers follow the database. Pending subscriptions are claimed with a lease (FOR UPDATE SKIP
// LOCKED, so replicas share the work), applied per router through the RouterGateway in one pipelined
// batch, and marked synced only for the version that was applied: a change made meanwhile stays
// pending. An unreachable router keeps its subscriptions pending with backoff and counts a failure.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { backoffDelay } from '@ispmon/service-kit';
import { exec, pgIds, q, tx } from './db/sql.js';
import type { BillingMetrics } from './metrics.js';
import { desiredRouterState, SYNC_BACKOFF, type Isolation, type SubscriptionStatus } from './policy.js';
import type {
  DesiredSecret,
  Drift,
  ProfileSpec,
  RouterEndpoint,
  RouterGateway,
} from './provisioning/types.js';
import type { SecretBox } from './secrets.js';
import {
  ISOLATION_ADDRESS_LIST,
  type GardenAction,
  type GardenDrift,
  type WalledGardenReport,
} from './provisioning/walled-garden.js';

/** Marks a subscription for the router to follow (in the caller's transaction). */
export const PENDING_SYNC = `sync_state = 'pending', sync_version = sync_version + 1, sync_attempts = 0, sync_error = null`;

interface ClaimedRow {
  id: string;
  sync_version: number;
  kick_pending: boolean;
  sync_attempts: number;
  status: SubscriptionStatus;
  ppp_username: string;
  ppp_password_enc: string;
  local_address: string | null;
  remote_address: string | null;
  router_id: string;
  profile: string;
  rate_limit: string;
  isolation: Isolation;
  isolation_profile: string | null;
}

interface RouterRow {
  id: string;
  name: string;
  host: string;
  api_port: number;
  tls: boolean;
  username: string;
  password_enc: string;
  isolation_profile: string;
  isolation_rate_limit: string;
}

export const MANAGED_COMMENT_PREFIX = 'ispmon:sub=';

const DESIRED_COLUMNS = `s.id, s.sync_version, s.kick_pending, s.sync_attempts, s.status, s.ppp_username, s.ppp_password_enc,
  s.local_address, s.remote_address, s.router_id, p.profile, p.rate_limit, p.isolation, p.isolation_profile`;

export interface SyncRound {
  claimed: number;
  synced: number;
  failed: number;
}

export class RouterSync {
  constructor(
    private readonly orm: MikroORM,
    private readonly gateway: RouterGateway,
    private readonly box: SecretBox,
    private readonly metrics: BillingMetrics,
    private readonly logger: Logger,
    private readonly batchSize = 5_000,
    private readonly leaseMs = 120_000,
  ) {}

  endpoint(r: RouterRow): RouterEndpoint {
    return {
      name: r.name,
      host: r.host,
      port: r.api_port,
      username: r.username,
      password: this.box.open(r.password_enc),
      tls: r.tls,
    };
  }

  private desired(row: ClaimedRow, router: RouterRow): DesiredSecret & { present: boolean } {
    const want = desiredRouterState(
      row.status,
      { profile: row.profile, isolation: row.isolation, isolationProfile: row.isolation_profile },
      router.isolation_profile,
    );
    return {
      present: want.present,
      name: row.ppp_username,
      password: this.box.open(row.ppp_password_enc),
      service: 'pppoe',
      profile: want.profile,
      disabled: want.disabled,
      ...(row.local_address ? { localAddress: row.local_address } : {}),
      ...(row.remote_address ? { remoteAddress: row.remote_address } : {}),
      comment: `${MANAGED_COMMENT_PREFIX}${row.id}`,
    };
  }

  private profilesFor(rows: ClaimedRow[], router: RouterRow): ProfileSpec[] {
    const specs = new Map<string, ProfileSpec>();
    for (const r of rows) {
      specs.set(r.profile, { name: r.profile, rateLimit: r.rate_limit });
      if (r.status === 'suspended' && r.isolation === 'profile') {
        const name = r.isolation_profile ?? router.isolation_profile;
        if (!specs.has(name))
          specs.set(name, {
            name,
            rateLimit: router.isolation_rate_limit,
            addressList: ISOLATION_ADDRESS_LIST,
          });
      }
    }
    return [...specs.values()];
  }

  /** One round: claim due work, apply it router by router. Returns what happened. */
  async round(now: Date): Promise<SyncRound> {
    const claimed = await tx(this.orm, (em) =>
      q<ClaimedRow>(
        em,
        `with c as (
           select id from subscriptions
            where sync_state <> 'synced' and next_sync_at <= ? and (sync_claimed_until is null or sync_claimed_until < ?)
            order by next_sync_at limit ? for update skip locked
         ), up as (
           update subscriptions s set sync_claimed_until = ? from c where s.id = c.id
           returning s.id, s.sync_version, s.kick_pending, s.sync_attempts, s.status, s.ppp_username, s.ppp_password_enc,
                     s.local_address, s.remote_address, s.router_id, s.plan_id
         )
         select up.*, p.profile, p.rate_limit, p.isolation, p.isolation_profile from up join plans p on p.id = up.plan_id`,
        [now, now, this.batchSize, new Date(now.getTime() + this.leaseMs)],
      ),
    );
    const result: SyncRound = { claimed: claimed.length, synced: 0, failed: 0 };
    if (claimed.length === 0) return result;
    const byRouter = new Map<string, ClaimedRow[]>();
    for (const r of claimed) byRouter.set(r.router_id, [...(byRouter.get(r.router_id) ?? []), r]);
    const routers = await q<RouterRow>(
      this.orm.em.fork(),
      'select * from routers where id = any(?::bigint[])',
      [pgIds([...byRouter.keys()])],
    );
    await Promise.all(
      routers.map(async (router) => {
        const rows = byRouter.get(router.id) ?? [];
        try {
          await this.applyRouter(router, rows);
          await this.markSynced(rows, now);
          result.synced += rows.length;
        } catch (err) {
          result.failed += rows.length;
          this.metrics.routerSyncFailures.inc({ router: router.name });
          const message = (err as Error).message;
          this.logger.warn(
            { event: 'router_sync_failed', router: router.name, subscriptions: rows.length, error: message },
            'router sync failed; will retry with backoff',
          );
          await this.markFailed(rows, now, message);
        }
      }),
    );
    return result;
  }

  private async applyRouter(router: RouterRow, rows: ClaimedRow[]): Promise<void> {
    const endpoint = this.endpoint(router);
    const desired = rows.map((r) => ({ row: r, want: this.desired(r, router) }));
    const keep = desired.filter((d) => d.want.present);
    const drop = desired.filter((d) => !d.want.present);
    if (keep.length) {
      const profiles = this.profilesFor(
        keep.map((d) => d.row),
        router,
      );
      await this.gateway.ensureProfiles(endpoint, profiles);
      if (profiles.some((p) => p.addressList === ISOLATION_ADDRESS_LIST))
        await this.keepGarden(router, endpoint);
      const kick = new Set(keep.filter((d) => d.row.kick_pending).map((d) => d.want.name));
      await this.gateway.apply(
        endpoint,
        keep.map(({ want: { present: _p, ...secret } }) => secret),
        kick,
      );
    }
    if (drop.length)
      await this.gateway.remove(
        endpoint,
        drop.map((d) => d.want.name),
      );
  }

  /** Someone goes into isolation: the walled garden must be there. Its failure leaves the secrets' sync
   * alone (logged, shown by the drift report, tried again with the next isolation or repair). */
  private async keepGarden(router: RouterRow, endpoint: RouterEndpoint): Promise<void> {
    try {
      const r = await this.gateway.walledGarden(endpoint, 'apply');
      if (r.commandsSent)
        this.logger.info(
          {
            event: 'walled_garden_applied',
            router: router.name,
            commands: r.commandsSent,
            drift: r.drift.length,
          },
          'walled garden brought in line',
        );
    } catch (err) {
      this.logger.warn(
        { event: 'walled_garden_failed', router: router.name, error: (err as Error).message },
        'could not apply the walled garden',
      );
    }
  }

  /** The walled garden of one router: its drift ('diff'), brought in line ('apply'), or removed. */
  async walledGarden(
    routerId: string,
    action: GardenAction,
  ): Promise<({ router: string } & WalledGardenReport) | undefined> {
    const router = await this.routerRow(routerId);
    if (!router) return undefined;
    return { router: router.name, ...(await this.gateway.walledGarden(this.endpoint(router), action)) };
  }

  private async markSynced(rows: ClaimedRow[], now: Date): Promise<void> {
    await exec(
      this.orm.em.fork(),
      `update subscriptions s set synced_version = v.version,
          sync_state = case when s.sync_version = v.version then 'synced' else 'pending' end,
          kick_pending = case when s.sync_version = v.version then false else s.kick_pending end,
          sync_attempts = 0, sync_error = null, synced_at = ?, sync_claimed_until = null
         from unnest(?::bigint[], ?::int[]) as v(id, version) where s.id = v.id`,
      [now, pgIds(rows.map((r) => r.id)), pgIds(rows.map((r) => r.sync_version))],
    );
  }

  private async markFailed(rows: ClaimedRow[], now: Date, error: string): Promise<void> {
    const attempts = (rows[0]?.sync_attempts ?? 0) + 1;
    await exec(
      this.orm.em.fork(),
      `update subscriptions set sync_attempts = sync_attempts + 1, sync_error = ?, next_sync_at = ?, sync_claimed_until = null
        where id = any(?::bigint[])`,
      [
        error.slice(0, 500),
        new Date(now.getTime() + backoffDelay(attempts, SYNC_BACKOFF)),
        pgIds(rows.map((r) => r.id)),
      ],
    );
  }

  private async routerRow(routerId: string): Promise<RouterRow | undefined> {
    return (await q<RouterRow>(this.orm.em.fork(), 'select * from routers where id = ?', [routerId]))[0];
  }

  /** Drift between the database and one router (report only). */
  async drift(
    routerId: string,
  ): Promise<{ router: string; drift: Drift[]; walledGarden: GardenDrift[] } | undefined> {
    const router = await this.routerRow(routerId);
    if (!router) return undefined;
    const rows = await q<ClaimedRow>(
      this.orm.em.fork(),
      `select ${DESIRED_COLUMNS} from subscriptions s join plans p on p.id = s.plan_id where s.router_id = ? and s.status <> 'cancelled'`,
      [routerId],
    );
    const desired = rows.map((r) => this.desired(r, router)).map(({ present: _p, ...d }) => d);
    const drift = await this.gateway.diff(this.endpoint(router), desired, MANAGED_COMMENT_PREFIX);
    this.metrics.routerDrift.set({ router: router.name }, drift.length);
    const garden = await this.gateway.walledGarden(this.endpoint(router), 'diff');
    this.metrics.walledGardenDrift.set({ router: router.name }, garden.drift.length);
    return { router: router.name, drift, walledGarden: garden.drift };
  }

  /** Repairs drift: every subscription on the router is applied again (no sessions kicked) and
   * secrets billing created for subscriptions that no longer exist are removed. */
  async repair(
    routerId: string,
  ): Promise<{ router: string; repaired: Drift[]; walledGarden: GardenDrift[] } | undefined> {
    const report = await this.drift(routerId);
    const router = await this.routerRow(routerId);
    if (!report || !router) return undefined;
    // Tagged leftovers of a garden no longer configured are removed; a configured one is re-applied.
    if (report.walledGarden.length) {
      const r = await this.gateway.walledGarden(this.endpoint(router), 'apply');
      if (!r.configured) await this.gateway.walledGarden(this.endpoint(router), 'remove');
    }
    const walledGarden = report.walledGarden;
    this.metrics.walledGardenDrift.set({ router: router.name }, 0);
    if (report.drift.length === 0) return { router: report.router, repaired: [], walledGarden };
    const rows = await q<ClaimedRow>(
      this.orm.em.fork(),
      `select ${DESIRED_COLUMNS} from subscriptions s join plans p on p.id = s.plan_id where s.router_id = ? and s.status <> 'cancelled'`,
      [routerId],
    );
    const endpoint = this.endpoint(router);
    const desired = rows.map((r) => this.desired(r, router));
    await this.gateway.ensureProfiles(endpoint, this.profilesFor(rows, router));
    const wanted = new Set(report.drift.filter((d) => d.kind !== 'unknown_secret').map((d) => d.secret));
    await this.gateway.apply(
      endpoint,
      desired.filter((d) => wanted.has(d.name)).map(({ present: _p, ...d }) => d),
      new Set(),
    );
    const unknown = report.drift.filter((d) => d.kind === 'unknown_secret').map((d) => d.secret);
    if (unknown.length) await this.gateway.remove(endpoint, unknown);
    this.metrics.routerDrift.set({ router: router.name }, 0);
    return { router: report.router, repaired: report.drift, walledGarden };
  }
}
