export { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { issueToken } from './tokens.js';
export { SecretBox } from './secrets.js';
export { openBillingDatabase } from './db/orm.js';
export { slaExtensions } from './sla/wiring.js';
export { PrometheusClient, PrometheusQueryError } from './prometheus/client.js';
