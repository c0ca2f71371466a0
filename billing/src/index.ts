export { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { issueToken } from './tokens.js';
export { SecretBox } from './secrets.js';
export { openDatabase } from './db/orm.js';
export { startMidtransFake, type MidtransFake } from './testing/midtrans-fake.js';
export { slaExtensions } from './sla/wiring.js';
