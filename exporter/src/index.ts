export { Exporter, type ExporterOptions } from './app.js';
export { encodeText, type MetricFamily, type Sample } from './exposition.js';
export { ConfigError, parseConfig, loadConfigFile } from './config/load.js';
// Re-exported only until demo/src/story.ts imports the client from @ispmon/routeros itself.
export { RouterOsClient, RouterOsError, type RouterOsRow } from '@ispmon/routeros';
