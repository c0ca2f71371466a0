export { backoffDelay, type BackoffPolicy } from './backoff.js';
export { isDatabaseUnavailable, openDatabase, type DatabaseOptions } from './database.js';
export { JobRunner, type PeriodicJob } from './jobs.js';
export { createServiceRegistry } from './metrics.js';
export { stopOnSignals } from './shutdown.js';
export { hashToken, newToken, RoleLadder } from './tokens.js';
export {
  DeliveryError,
  Outbox,
  OUTBOX_RETRY,
  postWithKey,
  type OutboxAdapter,
  type OutboxItem,
  type OutboxQuery,
  type OutboxTables,
  type Screening,
} from './outbox.js';
