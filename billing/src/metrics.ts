// Billing's /metrics: counters of what happened, and gauges read from the database at scrape time
// (subscriptions and invoices by status, overdue amount, each client link's SLA commitments) by the
// aggregates in refresh().
// Names are the contract in README ("Billing metrics", "SLA commitments exported by billing").
import { Counter, Gauge } from 'prom-client';
import { createServiceRegistry } from '@ispmon/service-kit';
import { q, type Em } from './db/sql.js';
import { MIDTRANS_OUTCOMES } from './payments/notification.js';

export class BillingMetrics {
  readonly registry = createServiceRegistry();
  readonly subscriptions = new Gauge({
    name: 'ispmon_billing_subscriptions',
    help: 'Subscriptions by status.',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly subscriptionsPendingSync = new Gauge({
    name: 'ispmon_billing_subscriptions_pending_sync',
    help: 'Subscriptions whose router does not yet match the database.',
    registers: [this.registry],
  });
  readonly invoices = new Gauge({
    name: 'ispmon_billing_invoices',
    help: 'Invoices by status.',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly overdueAmount = new Gauge({
    name: 'ispmon_billing_overdue_amount_idr',
    help: 'Amount due on overdue invoices, whole rupiah.',
    registers: [this.registry],
  });
  readonly midtransNotifications = new Counter({
    name: 'ispmon_billing_midtrans_notifications_total',
    help: 'Midtrans notifications and status polls by outcome (paid, duplicate, invalid_signature, status_code_mismatch, amount_mismatch, unknown_order, ...).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly suspensions = new Counter({
    name: 'ispmon_billing_suspensions_total',
    help: 'Subscriptions suspended (by the billing cycle or by staff).',
    registers: [this.registry],
  });
  readonly restores = new Counter({
    name: 'ispmon_billing_restores_total',
    help: 'Subscriptions restored (on payment or by staff).',
    registers: [this.registry],
  });
  readonly routerSyncFailures = new Counter({
    name: 'ispmon_billing_router_sync_failures_total',
    help: 'Failed attempts to make a router match the database, by router.',
    labelNames: ['router'],
    registers: [this.registry],
  });
  readonly routerDrift = new Gauge({
    name: 'ispmon_billing_router_drift_secrets',
    help: 'PPP secrets that differed from the database at the last reconciliation, by router.',
    labelNames: ['router'],
    registers: [this.registry],
  });
  readonly walledGardenDrift = new Gauge({
    name: 'ispmon_billing_walled_garden_drift_items',
    help: "Walled garden rules and address-list entries that differed from billing's at the last reconciliation, by router.",
    labelNames: ['router'],
    registers: [this.registry],
  });
  readonly cycleRuns = new Counter({
    name: 'ispmon_billing_cycle_runs_total',
    help: 'Billing cycle runs by outcome (ok, failed).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly slaAvailabilityTarget = new Gauge({
    name: 'ispmon_link_sla_availability_target_ratio',
    help: "Client link's committed availability as a ratio (0.995 = 99.5 %).",
    labelNames: ['link', 'customer'],
    registers: [this.registry],
  });
  readonly slaLatencyTarget = new Gauge({
    name: 'ispmon_link_sla_latency_target_seconds',
    help: "Client link's committed mean round-trip time.",
    labelNames: ['link', 'customer'],
    registers: [this.registry],
  });
  readonly slaLossTarget = new Gauge({
    name: 'ispmon_link_sla_loss_target_ratio',
    help: "Client link's committed packet loss as a ratio.",
    labelNames: ['link', 'customer'],
    registers: [this.registry],
  });
  readonly slaReports = new Counter({
    name: 'ispmon_billing_sla_reports_total',
    help: 'SLA reports produced, by outcome (met, breached, failed).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor() {
    // Known label values start at 0, so a panel or a rate() shows 0 instead of "No data".
    for (const outcome of MIDTRANS_OUTCOMES) this.midtransNotifications.inc({ outcome }, 0);
    for (const outcome of ['ok', 'failed']) this.cycleRuns.inc({ outcome }, 0);
    for (const outcome of ['met', 'breached', 'failed']) this.slaReports.inc({ outcome }, 0);
  }

  /** Reads the gauges from the database (at scrape time); counters of known routers start at 0. */
  async refresh(em: Em): Promise<void> {
    const subs = await q<{ status: string; n: string }>(
      em,
      'select status, count(*) as n from subscriptions group by status',
    );
    this.subscriptions.reset();
    for (const s of ['active', 'suspended', 'expired', 'cancelled']) this.subscriptions.set({ status: s }, 0);
    for (const r of subs) this.subscriptions.set({ status: r.status }, Number(r.n));
    const pending = await q<{ n: string }>(
      em,
      "select count(*) as n from subscriptions where sync_state <> 'synced'",
    );
    this.subscriptionsPendingSync.set(Number(pending[0]?.n ?? 0));
    const inv = await q<{ status: string; n: string; due: string }>(
      em,
      'select status, count(*) as n, coalesce(sum(amount_idr - credit_idr), 0)::text as due from invoices group by status',
    );
    this.invoices.reset();
    for (const s of ['unpaid', 'paid', 'overdue', 'cancelled']) this.invoices.set({ status: s }, 0);
    this.overdueAmount.set(0);
    for (const r of inv) {
      this.invoices.set({ status: r.status }, Number(r.n));
      if (r.status === 'overdue') this.overdueAmount.set(Number(r.due));
    }
    const links = await q<{ code: string; customer: string; a: string; l: string | null; p: string | null }>(
      em,
      'select l.code, c.code as customer, l.availability_target_percent::text as a, l.latency_target_ms::text as l, l.loss_target_percent::text as p from client_links l join customers c on c.id = l.customer_id where l.active',
    );
    for (const g of [this.slaAvailabilityTarget, this.slaLatencyTarget, this.slaLossTarget]) g.reset();
    for (const l of links) {
      const labels = { link: l.code, customer: l.customer };
      this.slaAvailabilityTarget.set(labels, Number(l.a) / 100);
      if (l.l !== null) this.slaLatencyTarget.set(labels, Number(l.l) / 1000);
      if (l.p !== null) this.slaLossTarget.set(labels, Number(l.p) / 100);
    }
    const routers = await q<{ name: string }>(em, 'select name from routers');
    for (const r of routers) this.routerSyncFailures.inc({ router: r.name }, 0);
  }
}
