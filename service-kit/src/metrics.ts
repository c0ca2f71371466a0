// A service's Prometheus registry with the process and Node.js metrics every ispmon service exposes.
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Gauges of libuv internals that change with every request and help nobody operate the service. */
const NOISY_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function createServiceRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of NOISY_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}
