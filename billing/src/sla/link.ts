// A client link as the SLA reads it: its row with the customer's code and name, and its report contacts.
import type { MikroORM } from '@mikro-orm/postgresql';
import { notFound, one } from '../db/sql.js';

export interface SlaLink {
  id: string;
  code: string;
  name: string;
  customer_id: string;
  customer_code: string;
  customer_name: string;
  router_id: string | null;
  bandwidth: string | null;
  service_address: string | null;
  availability_target_percent: string;
  latency_target_ms: string | null;
  loss_target_percent: string | null;
  monthly_fee_idr: string;
  credit_policy: {
    tiers: Array<{ below_availability_percent: number; credit_percent: number }>;
    cap_percent: number;
  };
  contacts: string[] | string;
  time_zone: string;
  no_data_policy: 'down' | 'exclude';
}

export async function loadLink(orm: MikroORM, id: string): Promise<SlaLink> {
  const row = await one<SlaLink>(
    orm.em.fork(),
    `select l.*, c.code as customer_code, c.name as customer_name from client_links l join customers c on c.id = l.customer_id where l.id = ?`,
    [id],
  );
  if (!row) throw notFound('client link', id);
  return row;
}

/** The link's report recipients; the driver may hand a text[] over as its literal ('{a,b}'). */
export function contactsOf(link: SlaLink): string[] {
  if (Array.isArray(link.contacts)) return link.contacts;
  return link.contacts
    .replace(/^\{|\}$/g, '')
    .split(',')
    .filter(Boolean);
}
