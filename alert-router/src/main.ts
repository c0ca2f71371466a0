// Composition root. Environment (12-factor):
//   DATABASE_URL (required), PORT (8080), HOST (0.0.0.0), ALERT_ROUTER_CONFIG (channels and policies YAML),
//   ALERTMANAGER_URL (for silences on ack), WEBHOOK_BEARER_TOKEN, ALERT_ROUTER_ADMIN_TOKEN (bootstraps an
//   admin token named "bootstrap"), LOG_LEVEL.
import { pino } from 'pino';
import { startRuntime } from './runtime.js';
import { createToken } from './tokens.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'ispmon-alert-router' } });
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  logger.fatal({ event: 'config_invalid' }, 'DATABASE_URL is required');
  process.exit(2);
}

const runtime = await startRuntime({
  databaseUrl,
  host: process.env.HOST ?? '0.0.0.0',
  port: Number(process.env.PORT ?? 8080),
  logger,
  ...(process.env.ALERT_ROUTER_CONFIG ? { configFile: process.env.ALERT_ROUTER_CONFIG } : {}),
  ...(process.env.ALERTMANAGER_URL ? { alertmanagerUrl: process.env.ALERTMANAGER_URL } : {}),
  ...(process.env.WEBHOOK_BEARER_TOKEN ? { webhookBearerToken: process.env.WEBHOOK_BEARER_TOKEN } : {}),
}).catch((err: unknown) => {
  logger.fatal({ event: 'start_failed', error: (err as Error).message }, 'alert router could not start');
  process.exit(1);
});
if (process.env.ALERT_ROUTER_ADMIN_TOKEN)
  await createToken(runtime.orm, 'bootstrap', 'admin', new Date(), process.env.ALERT_ROUTER_ADMIN_TOKEN);
logger.info({ event: 'listening', url: runtime.url }, `alert router listening on ${runtime.url}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight webhooks and deliveries');
    void runtime.stop().then(() => process.exit(0));
  });
}
