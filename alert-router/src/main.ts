// Composition root. Environment (12-factor), read by settingsFromEnv (config.ts):
//   DATABASE_URL (required), PORT (8080), HOST (0.0.0.0), ALERT_ROUTER_CONFIG (channels and policies YAML),
//   ALERTMANAGER_URL (silences on ack), WEBHOOK_BEARER_TOKEN, WEBHOOK_BASIC_AUTH_USERNAME +
//   WEBHOOK_BASIC_AUTH_PASSWORD(_FILE), WEBHOOK_MAX_BYTES, ALERT_ROUTER_ADMIN_TOKEN, LOG_LEVEL.
import { pino } from 'pino';
import { stopOnSignals } from '@ispmon/service-kit';
import { settingsFromEnv, type EnvSettings } from './config.js';
import { startRuntime } from './runtime.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'ispmon-alert-router' } });
let settings: EnvSettings;
try {
  settings = settingsFromEnv(process.env);
} catch (err) {
  logger.fatal({ event: 'config_invalid', error: (err as Error).message }, (err as Error).message);
  process.exit(2);
}

const runtime = await startRuntime({ ...settings, logger }).catch((err: unknown) => {
  logger.fatal({ event: 'start_failed', error: (err as Error).message }, 'alert router could not start');
  process.exit(1);
});
logger.info({ event: 'listening', url: runtime.url }, `alert router listening on ${runtime.url}`);

// In-flight webhooks commit and the current send finishes before the process exits.
stopOnSignals(logger, () => runtime.stop());
