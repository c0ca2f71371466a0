export { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { issueToken } from './tokens.js';
export { SecretBox } from './secrets.js';
export { openBillingDatabase } from './db/orm.js';
export { slaExtensions } from './sla/wiring.js';
export { PrometheusClient, PrometheusQueryError } from './prometheus/client.js';
// The subscriber's side, for compositions other than main.ts (the demo wires it from the same settings).
export { RouterOsGateway } from './provisioning/routeros-gateway.js';
export { walledGardenFromEnv } from './provisioning/walled-garden.js';
export { portalExtensions, portalLink, portalSettings } from './portal/index.js';
export { noticeExtensions } from './notices/wiring.js';

// The SLA report's pipeline, for cross-component tests that compute a month from other engines.
export { PrometheusSlaSource } from './sla/prometheus.js';
export { computeMonth } from './sla/produce.js';
export { monthBounds } from './sla/calc.js';
export type { SlaLink } from './sla/link.js';
export type { SlaMonth } from './sla/types.js';
export type { EngineSetting } from './prometheus/engine.js';
