// MikroORM entity definitions of billing's main tables (read through the ORM by the API's detail views
// and by tests). Set-based work (the billing cycle over 100,000 subscriptions, gap-free numbering,
// row-locked payment application) runs SQL through the same ORM connection, where locks and
// ON CONFLICT say exactly what they do.
import { EntitySchema } from '@mikro-orm/core';

export interface Customer {
  id: string;
  code: string;
  name: string;
  email?: string | null;
  phone?: string | null;
  address?: string | null;
  suspensionExempt: boolean;
  notes: string;
  createdAt: Date;
  updatedAt: Date;
}

export const CustomerSchema = new EntitySchema<Customer>({
  name: 'Customer',
  tableName: 'customers',
  properties: {
    id: { type: 'bigint', primary: true },
    code: { type: 'text', unique: true },
    name: { type: 'text' },
    email: { type: 'text', nullable: true },
    phone: { type: 'text', nullable: true },
    address: { type: 'text', nullable: true },
    suspensionExempt: { type: 'boolean' },
    notes: { type: 'text' },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
  },
});

export interface Plan {
  id: string;
  code: string;
  name: string;
  kind: 'pppoe' | 'hotspot' | 'static';
  rateLimit: string;
  burst?: string | null;
  priceIdr: string;
  validityDays: number;
  profile: string;
  isolation: 'profile' | 'disable';
  isolationProfile?: string | null;
  active: boolean;
}

export const PlanSchema = new EntitySchema<Plan>({
  name: 'Plan',
  tableName: 'plans',
  properties: {
    id: { type: 'bigint', primary: true },
    code: { type: 'text', unique: true },
    name: { type: 'text' },
    kind: { type: 'text' },
    rateLimit: { type: 'text' },
    burst: { type: 'text', nullable: true },
    priceIdr: { type: 'bigint' },
    validityDays: { type: 'integer' },
    profile: { type: 'text' },
    isolation: { type: 'text' },
    isolationProfile: { type: 'text', nullable: true },
    active: { type: 'boolean' },
  },
});

export interface Subscription {
  id: string;
  customer: Customer;
  plan: Plan;
  pppUsername: string;
  periodStart: Date;
  periodEnd: Date;
  status: 'active' | 'suspended' | 'expired' | 'cancelled';
  autoRenew: boolean;
  syncState: 'pending' | 'synced' | 'failed';
}

export const SubscriptionSchema = new EntitySchema<Subscription>({
  name: 'Subscription',
  tableName: 'subscriptions',
  properties: {
    id: { type: 'bigint', primary: true },
    customer: { kind: 'm:1', entity: () => CustomerSchema, fieldName: 'customer_id' },
    plan: { kind: 'm:1', entity: () => PlanSchema, fieldName: 'plan_id' },
    pppUsername: { type: 'text' },
    periodStart: { type: 'datetime' },
    periodEnd: { type: 'datetime' },
    status: { type: 'text' },
    autoRenew: { type: 'boolean' },
    syncState: { type: 'text' },
  },
});

export interface Invoice {
  id: string;
  number: string;
  customer: Customer;
  subscription?: Subscription | null;
  kind: 'renewal' | 'first' | 'manual';
  amountIdr: string;
  dueAt: Date;
  status: 'unpaid' | 'paid' | 'overdue' | 'cancelled';
  paidAt?: Date | null;
}

export const InvoiceSchema = new EntitySchema<Invoice>({
  name: 'Invoice',
  tableName: 'invoices',
  properties: {
    id: { type: 'bigint', primary: true },
    number: { type: 'text', unique: true },
    customer: { kind: 'm:1', entity: () => CustomerSchema, fieldName: 'customer_id' },
    subscription: {
      kind: 'm:1',
      entity: () => SubscriptionSchema,
      fieldName: 'subscription_id',
      nullable: true,
    },
    kind: { type: 'text' },
    amountIdr: { type: 'bigint' },
    dueAt: { type: 'datetime' },
    status: { type: 'text' },
    paidAt: { type: 'datetime', nullable: true },
  },
});

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  entity: string;
  entityId: string;
  action: string;
  fromState?: string | null;
  toState?: string | null;
  reason?: string | null;
  detail: Record<string, unknown>;
}

export const AuditEntrySchema = new EntitySchema<AuditEntry>({
  name: 'AuditEntry',
  tableName: 'audit_log',
  properties: {
    id: { type: 'bigint', primary: true },
    at: { type: 'datetime' },
    actor: { type: 'text' },
    entity: { type: 'text' },
    entityId: { type: 'text' },
    action: { type: 'text' },
    fromState: { type: 'text', nullable: true },
    toState: { type: 'text', nullable: true },
    reason: { type: 'text', nullable: true },
    detail: { type: 'json' },
  },
});

export const entities = [CustomerSchema, PlanSchema, SubscriptionSchema, InvoiceSchema, AuditEntrySchema];
