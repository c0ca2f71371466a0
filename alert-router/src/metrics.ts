import { createServiceRegistry } from '@ispmon/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';

export const WEBHOOK_OUTCOMES = ['accepted', 'rejected', 'too_large', 'unauthorized', 'failed'] as const;
export const NOTIFICATION_OUTCOMES = ['sent', 'failed', 'rate_limited', 'dead', 'superseded'] as const;
const SEVERITIES = ['critical', 'warning', 'info'] as const;

export class RouterMetrics {
  readonly registry = createServiceRegistry();
  readonly webhooks = new Counter({
    name: 'ispmon_alert_router_webhooks_total',
    help: 'Alertmanager webhooks received, by outcome (accepted, rejected, too_large, unauthorized, failed).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'ispmon_alert_router_alerts_total',
    help: 'Alerts received in webhooks.',
    registers: [this.registry],
  });
  readonly ingestDuration = new Histogram({
    name: 'ispmon_alert_router_webhook_duration_seconds',
    help: 'Time from receiving a webhook to committing it.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly openIncidents = new Gauge({
    name: 'ispmon_alert_router_incidents_open',
    help: 'Incidents currently firing, by severity.',
    labelNames: ['severity'],
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'ispmon_alert_router_notifications_total',
    help: 'Notification attempts by channel and outcome (sent, failed, rate_limited, dead, superseded).',
    labelNames: ['channel', 'outcome'],
    registers: [this.registry],
  });
  readonly escalationLag = new Histogram({
    name: 'ispmon_alert_router_escalation_lag_seconds',
    help: 'How late escalation steps ran after they were due.',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  constructor() {
    for (const outcome of WEBHOOK_OUTCOMES) this.webhooks.inc({ outcome }, 0);
    this.resetOpenIncidents();
  }

  /** Every configured channel shows 0 per outcome from the start, so a dashboard reads 0, not "No data". */
  initialiseChannels(channels: Iterable<string>): void {
    for (const channel of channels)
      for (const outcome of NOTIFICATION_OUTCOMES) this.notifications.inc({ channel, outcome }, 0);
  }

  /** Open incidents start at 0 for the severities the rules use; other severities appear when seen. */
  resetOpenIncidents(): void {
    this.openIncidents.reset();
    for (const severity of SEVERITIES) this.openIncidents.set({ severity }, 0);
  }
}
