export { Exporter, type ExporterOptions } from './app.js';
export { encodeText, type MetricFamily, type Sample } from './exposition.js';
export { ConfigError, parseConfig, parseTargetsFile, loadConfigFile } from './config/load.js';
