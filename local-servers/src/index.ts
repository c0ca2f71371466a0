export { MissingBinaryError, findBinary, postgresBinDir } from './binaries.js';
export { freePort, retryPortClash } from './ports.js';
export { waitFor, httpOk } from './wait.js';
export { ServerProcess } from './server-process.js';
export { startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres.js';
export {
  startPrometheus,
  type PrometheusServer,
  type PromSample,
  type StartPrometheusOptions,
} from './prometheus.js';
export {
  startAlertmanager,
  alertmanagerBinary,
  type AlertmanagerServer,
  type StartAlertmanagerOptions,
} from './alertmanager.js';
export {
  startVictoriaMetrics,
  type VictoriaMetricsServer,
  type PromRangeSeries,
  type StartVictoriaMetricsOptions,
} from './victoria-metrics.js';
export {
  cpuSecondsByPid,
  processCpu,
  processTreeCpuSeconds,
  loadAverage,
  type ProcessCpu,
} from './process-cpu.js';
