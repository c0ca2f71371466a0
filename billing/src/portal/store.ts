// The isolation page's reads: a subscriber by the address billing assigned to their PPP secret
// (subscriptions.remote_address, indexed by the 2026-12-01-portal migration), by a router's PPP session
// (sessions.ts), or by id (a signed link), and their overdue invoices. Read only; paying goes through PaymentService.
import type { MikroORM } from '@mikro-orm/postgresql';
import { q } from '../db/sql.js';
import type { OverdueInvoiceRow, SubscriberRow } from './page.js';

const SUBSCRIBER = `select s.id::text as id, s.status, c.name as customer_name, p.name as plan_name,
    (select max(a.at) from audit_log a
      where a.entity = 'subscriptions' and a.entity_id = s.id::text and a.action = 'restore') as restored_at
  from subscriptions s join customers c on c.id = s.customer_id join plans p on p.id = s.plan_id`;

export interface RouterRow {
  id: string;
  name: string;
  host: string;
  api_port: number;
  tls: boolean;
  username: string;
  password_enc: string;
}

type Row = Omit<SubscriberRow, 'restored_at'> & { restored_at: Date | string | null };
const parse = (r: Row): SubscriberRow => ({
  ...r,
  restored_at: r.restored_at === null ? null : new Date(r.restored_at),
});

export class PortalStore {
  constructor(private readonly orm: MikroORM) {}

  /** Live subscriptions holding this address (two at most: more than one names nobody anyway). */
  async byAddress(address: string): Promise<SubscriberRow[]> {
    const rows = await q<Row>(
      this.orm.em.fork(),
      `${SUBSCRIBER} where s.remote_address = ? and s.status <> 'cancelled' order by s.id limit 2`,
      [address],
    );
    return rows.map(parse);
  }

  /** Live subscriptions by (router, PPP name): the owners of sessions a router reported. */
  async byRouterSessions(
    sessions: ReadonlyArray<{ routerId: string; name: string }>,
  ): Promise<SubscriberRow[]> {
    if (!sessions.length) return [];
    const rows = await q<Row>(
      this.orm.em.fork(),
      `${SUBSCRIBER} where (s.router_id::text, s.ppp_username) in (${sessions.map(() => '(?, ?)').join(', ')})
         and s.status <> 'cancelled' order by s.id limit 2`,
      sessions.flatMap((x) => [x.routerId, x.name]),
    );
    return rows.map(parse);
  }

  async routers(): Promise<RouterRow[]> {
    return q<RouterRow>(
      this.orm.em.fork(),
      'select id::text as id, name, host, api_port, tls, username, password_enc from routers order by id',
    );
  }

  async byId(subscriptionId: string): Promise<SubscriberRow[]> {
    const rows = await q<Row>(this.orm.em.fork(), `${SUBSCRIBER} where s.id = ?`, [subscriptionId]);
    return rows.map(parse);
  }

  async overdueInvoices(subscriptionId: string): Promise<OverdueInvoiceRow[]> {
    const rows = await q<
      Omit<OverdueInvoiceRow, 'period_start' | 'period_end' | 'due_at'> & {
        period_start: Date | string | null;
        period_end: Date | string | null;
        due_at: Date | string;
      }
    >(
      this.orm.em.fork(),
      `select id::text as id, number, description, period_start, period_end, due_at,
              amount_idr::text as amount_idr, credit_idr::text as credit_idr
         from invoices where subscription_id = ? and status = 'overdue' order by due_at, id limit 24`,
      [subscriptionId],
    );
    return rows.map((r) => ({
      ...r,
      period_start: r.period_start === null ? null : new Date(r.period_start),
      period_end: r.period_end === null ? null : new Date(r.period_end),
      due_at: new Date(r.due_at),
    }));
  }
}
