export { backoffDelay, type BackoffPolicy } from './backoff.js';
export { isDatabaseUnavailable, openDatabase, type DatabaseOptions } from './database.js';
export { KEEP_ALIVE_MS, listenHttp } from './http.js';
export { AdvisoryJobLock, type JobLock } from './job-lock.js';
export { JobHeldElsewhereError, JobRunner, type JobRunnerOptions, type PeriodicJob } from './jobs.js';
export { createServiceRegistry } from './metrics.js';
export { readiness, type ReadinessAnswer } from './readiness.js';
export { stopOnSignals } from './shutdown.js';
export { executeStatement, numberPlaceholders, queryRows, type Row } from './sql.js';
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
export { resolveSecret, type SecretRef } from './secret-ref.js';
