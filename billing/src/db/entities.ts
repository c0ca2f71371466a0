// Billing's CRUD tables as MikroORM entities: the one description of customers, plans, routers and client
// links, used by the staff API (resources.ts) through em.find / em.create / em.flush in a per-request
// RequestContext. Property names are the column names (snake_case), which are also the API's field names.
// `schema.test.ts` holds the migrations to exactly these definitions (MikroORM's schema diff against the
// migrated database is empty); constraint names are PostgreSQL's, as the migrations created them.
// Set-based work keeps SQL through the same connection (README, "Database"): the billing cycle over
// 100,000 subscriptions, gap-free numbering, row-locked payment application, the sync claim, the audit
// log, the gauges. The tables only that SQL touches have no entity.
import { BigIntType, EntitySchema, type Ref } from '@mikro-orm/core';

const id = { type: new BigIntType('string'), primary: true, autoincrement: true } as const;
const createdAt = { type: 'datetime', defaultRaw: 'now()', onCreate: () => new Date() } as const;
const updatedAt = {
  type: 'datetime',
  defaultRaw: 'now()',
  onCreate: () => new Date(),
  onUpdate: () => new Date(),
} as const;

export interface Customer {
  id: string;
  code: string;
  name: string;
  email: string | null;
  phone: string | null;
  address: string | null;
  suspension_exempt: boolean;
  notes: string;
  created_at: Date;
  updated_at: Date;
}

export const CustomerEntity = new EntitySchema<Customer>({
  name: 'Customer',
  tableName: 'customers',
  properties: {
    id,
    code: { type: 'text', unique: 'customers_code_key' },
    name: { type: 'text' },
    email: { type: 'text', nullable: true },
    phone: { type: 'text', nullable: true },
    address: { type: 'text', nullable: true },
    suspension_exempt: { type: 'boolean', default: false },
    notes: { type: 'text', default: '' },
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export interface Plan {
  id: string;
  code: string;
  name: string;
  kind: 'pppoe' | 'hotspot' | 'static';
  rate_limit: string;
  burst: string | null;
  price_idr: string;
  validity_days: number;
  profile: string;
  isolation: 'profile' | 'disable';
  isolation_profile: string | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export const PlanEntity = new EntitySchema<Plan>({
  name: 'Plan',
  tableName: 'plans',
  checks: [
    { name: 'plans_kind_check', expression: "kind in ('pppoe', 'hotspot', 'static')" },
    { name: 'plans_price_idr_check', expression: 'price_idr >= 0' },
    { name: 'plans_validity_days_check', expression: 'validity_days > 0' },
    { name: 'plans_isolation_check', expression: "isolation in ('profile', 'disable')" },
  ],
  properties: {
    id,
    code: { type: 'text', unique: 'plans_code_key' },
    name: { type: 'text' },
    kind: { type: 'text' },
    rate_limit: { type: 'text' },
    burst: { type: 'text', nullable: true },
    price_idr: { type: new BigIntType('string') },
    validity_days: { type: 'integer' },
    profile: { type: 'text' },
    isolation: { type: 'text', default: 'profile' },
    isolation_profile: { type: 'text', nullable: true },
    active: { type: 'boolean', default: true },
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export interface Router {
  id: string;
  name: string;
  host: string;
  api_port: number;
  tls: boolean;
  username: string;
  /** Sealed with the SecretBox; never answered. */
  password_enc: string;
  site: string;
  isolation_profile: string;
  isolation_rate_limit: string;
  monitored: boolean;
  created_at: Date;
  updated_at: Date;
}

export const RouterEntity = new EntitySchema<Router>({
  name: 'Router',
  tableName: 'routers',
  checks: [{ name: 'routers_api_port_check', expression: 'api_port >= 1 and api_port <= 65535' }],
  properties: {
    id,
    name: { type: 'text', unique: 'routers_name_key' },
    host: { type: 'text' },
    api_port: { type: 'integer' },
    tls: { type: 'boolean', default: false },
    username: { type: 'text' },
    password_enc: { type: 'text', hidden: true },
    site: { type: 'text', default: '' },
    isolation_profile: { type: 'text', default: 'isolir' },
    isolation_rate_limit: { type: 'text', default: '256k/256k' },
    monitored: { type: 'boolean', default: true },
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export interface ClientLink {
  id: string;
  code: string;
  customer_id: Ref<Customer>;
  name: string;
  router_id: Ref<Router> | null;
  interface: string | null;
  probe_host: string | null;
  probe_protocol: 'icmp' | 'tcp';
  probe_port: number | null;
  bandwidth: string | null;
  service_address: string | null;
  availability_target_percent: string;
  latency_target_ms: string | null;
  loss_target_percent: string | null;
  monthly_fee_idr: string;
  credit_policy: unknown;
  contacts: string[];
  time_zone: string;
  no_data_policy: 'down' | 'exclude';
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export const ClientLinkEntity = new EntitySchema<ClientLink>({
  name: 'ClientLink',
  tableName: 'client_links',
  checks: [
    { name: 'client_links_probe_protocol_check', expression: "probe_protocol in ('icmp', 'tcp')" },
    { name: 'client_links_monthly_fee_idr_check', expression: 'monthly_fee_idr >= 0' },
    { name: 'client_links_no_data_policy_check', expression: "no_data_policy in ('down', 'exclude')" },
  ],
  properties: {
    id,
    code: { type: 'text', unique: 'client_links_code_key' },
    customer_id: {
      kind: 'm:1',
      entity: () => CustomerEntity,
      ref: true,
      fieldName: 'customer_id',
      foreignKeyName: 'client_links_customer_id_fkey',
    },
    name: { type: 'text' },
    router_id: {
      kind: 'm:1',
      entity: () => RouterEntity,
      ref: true,
      nullable: true,
      deleteRule: 'no action',
      fieldName: 'router_id',
      foreignKeyName: 'client_links_router_id_fkey',
    },
    interface: { type: 'text', nullable: true },
    probe_host: { type: 'text', nullable: true },
    probe_protocol: { type: 'text', default: 'icmp' },
    probe_port: { type: 'integer', nullable: true },
    bandwidth: { type: 'text', nullable: true },
    service_address: { type: 'text', nullable: true },
    availability_target_percent: { type: 'decimal', precision: 7, scale: 4 },
    latency_target_ms: { type: 'decimal', precision: 10, scale: 3, nullable: true },
    loss_target_percent: { type: 'decimal', precision: 7, scale: 4, nullable: true },
    monthly_fee_idr: { type: new BigIntType('string') },
    credit_policy: { type: 'json' },
    contacts: { type: 'text[]', defaultRaw: "'{}'" },
    time_zone: { type: 'text', default: 'Asia/Jakarta' },
    no_data_policy: { type: 'text', default: 'exclude' },
    active: { type: 'boolean', default: true },
    created_at: createdAt,
    updated_at: updatedAt,
  },
});

export const entities = [CustomerEntity, PlanEntity, RouterEntity, ClientLinkEntity];
