// Tests import the local servers through the harness, beside what only tests need.
export * from '@ispmon/local-servers';
export { startPrometheusWithHistory } from './history.js';
