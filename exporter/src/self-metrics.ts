// The exporter's own metrics on /metrics: process metrics plus scrape and device-request health.
// Label values are target and collector names only: never hosts' credentials.
import { Counter, Gauge } from 'prom-client';
// The subpath keeps MikroORM (service-kit's database part) out of the exporter process.
import { createServiceRegistry } from '@ispmon/service-kit/metrics';

export class SelfMetrics {
  readonly registry = createServiceRegistry();
  readonly scrapeDuration = new Gauge({
    name: 'ispmon_exporter_collector_duration_seconds',
    help: 'Duration of the last run of a collector for a target.',
    labelNames: ['target', 'collector'],
    registers: [this.registry],
  });
  readonly scrapeSuccess = new Gauge({
    name: 'ispmon_exporter_collector_success',
    help: 'Whether the last run of a collector for a target succeeded, 1 or 0.',
    labelNames: ['target', 'collector'],
    registers: [this.registry],
  });
  readonly probes = new Counter({
    name: 'ispmon_exporter_probes_total',
    help: 'Requests to /probe, by module.',
    labelNames: ['module'],
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'ispmon_exporter_routeros_requests_total',
    help: 'RouterOS API commands sent, by target.',
    labelNames: ['target'],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'ispmon_exporter_device_errors_total',
    help: 'Failed device requests, by target, protocol and reason (timeout, refused, auth, trap, protocol, closed, tls…).',
    labelNames: ['target', 'protocol', 'reason'],
    registers: [this.registry],
  });
  readonly commandErrors = new Counter({
    name: 'ispmon_exporter_routeros_command_errors_total',
    help: 'RouterOS commands that failed while the router answered the others, by target, command and reason.',
    labelNames: ['target', 'command', 'reason'],
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'ispmon_exporter_routeros_connections_open',
    help: 'RouterOS API connections currently open.',
    registers: [this.registry],
  });
  readonly reloadSuccess = new Gauge({
    name: 'ispmon_exporter_config_last_reload_successful',
    help: 'Whether the last configuration reload succeeded, 1 or 0.',
    registers: [this.registry],
  });
  readonly reloadTime = new Gauge({
    name: 'ispmon_exporter_config_last_reload_success_timestamp_seconds',
    help: 'Time of the last successful configuration reload.',
    registers: [this.registry],
  });
  readonly targets = new Gauge({
    name: 'ispmon_exporter_targets',
    help: 'Configured targets by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  forgetTarget(target: string): void {
    this.scrapeDuration.remove({ target });
    this.scrapeSuccess.remove({ target });
  }
}
