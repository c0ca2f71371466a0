export { Exporter, type ExporterOptions } from './app.js';
export {
  RouterOsClient,
  RouterOsError,
  type RouterOsConnectOptions,
  type RouterOsFailure,
  type RouterOsRow,
} from './routeros/client.js';
export { decodeRouterOsText } from './routeros/wire.js';
export * from './routeros/values.js';
export { encodeText, type MetricFamily, type Sample } from './exposition.js';
export { ConfigError, parseConfig, loadConfigFile } from './config/load.js';
