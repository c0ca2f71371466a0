// Billing's /metrics: counters of what happened, and gauges read from the database at scrape time
// (subscriptions and invoices by status, overdue amount, each client link's SLA commitments).
// Names are the contract in README ("Billing metrics", "SLA commitments exported by billing").
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export class BillingMetrics {
  readonly registry = new Registry();
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
    help: 'Midtrans notifications and status polls by outcome (paid, duplicate, invalid_signature, amount_mismatch, unknown_order, ...).',
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
    collectDefaultMetrics({ register: this.registry });
    // Gauges named *_total upset `promtool check metrics`; nothing reads them.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      this.registry.removeSingleMetric(name);
  }
}
