// Composition root. Environment (12-factor):
//   DATABASE_URL (required), BILLING_ENCRYPTION_KEY or BILLING_ENCRYPTION_KEY_FILE (required: 32 bytes,
//   hex or base64; seals router and PPP passwords), PORT (8090), HOST (0.0.0.0), LOG_LEVEL,
//   BILLING_ADMIN_TOKEN (bootstraps staff user "admin" with that token), BILLING_POLICY (YAML file of
//   policy.ts settings), ISPMON_INVENTORY_DIR (./var/inventory), PROMETHEUS_URL,
//   PROMETHEUS_ENGINE (prometheus | victoriametrics | auto, default auto: which engine PROMETHEUS_URL is),
//   MIDTRANS_SERVER_KEY / MIDTRANS_SERVER_KEY_FILE, MIDTRANS_CLIENT_KEY, MIDTRANS_PRODUCTION (true/false),
//   MIDTRANS_SNAP_URL and MIDTRANS_API_URL (only to point at a sandbox proxy or a fake),
//   BILLING_CYCLE_INTERVAL_SECONDS (3600), the SLA report settings in sla/wiring.ts, and the walled
//   garden for isolated subscribers: BILLING_PORTAL_ADDRESS (turns it on), BILLING_PORTAL_PORT (80),
//   BILLING_WALLED_GARDEN_HOSTS (comma-separated; Midtrans's hosts by default); the isolation
//   page's settings in portal/wiring.ts, and BILLING_NOTICES (notices to subscribers, notices/wiring.ts).
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parse } from 'yaml';
import { stopOnSignals } from '@ispmon/service-kit';
import { parseEngineSetting, type EngineSetting } from './prometheus/engine.js';
import { RouterOsGateway } from './provisioning/routeros-gateway.js';
import { walledGardenFromEnv } from './provisioning/walled-garden.js';
import { startRuntime } from './runtime.js';
import { noticeExtensions } from './notices/wiring.js';
import { portalExtensions, portalLink, portalSettings } from './portal/index.js';
import { slaExtensions } from './sla/wiring.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'ispmon-billing' } });
const env = (name: string): string | undefined => {
  const file = process.env[`${name}_FILE`];
  if (file) return readFileSync(file, 'utf8').trim();
  return process.env[name] || undefined;
};
const fail = (message: string): never => {
  logger.fatal({ event: 'config_invalid' }, message);
  process.exit(2);
};

const databaseUrl = env('DATABASE_URL') ?? fail('DATABASE_URL is required');
const encryptionKey =
  env('BILLING_ENCRYPTION_KEY') ?? fail('BILLING_ENCRYPTION_KEY (32 bytes, hex or base64) is required');
let policy: Record<string, unknown> = {};
if (process.env.BILLING_POLICY) {
  try {
    policy =
      (parse(readFileSync(process.env.BILLING_POLICY, 'utf8')) as Record<string, unknown> | null) ?? {};
  } catch (err) {
    fail(`BILLING_POLICY ${process.env.BILLING_POLICY}: ${(err as Error).message}`);
  }
}
const serverKey = env('MIDTRANS_SERVER_KEY');
const cycleSeconds = Number(process.env.BILLING_CYCLE_INTERVAL_SECONDS ?? 3600);
let walledGarden: ReturnType<typeof walledGardenFromEnv>;
try {
  walledGarden = walledGardenFromEnv(process.env);
} catch (err) {
  fail((err as Error).message);
}
// One gateway (one connection per router) for the sync job and the isolation page's session lookups.
const gateway = new RouterOsGateway(walledGarden ? { walledGarden } : {});
let portal: ReturnType<typeof portalExtensions> = () => [];
try {
  portal = portalExtensions(process.env, { sessions: gateway });
} catch (err) {
  fail(`isolation page: ${(err as Error).message}`);
}
let prometheusEngine: EngineSetting = 'auto';
try {
  prometheusEngine = parseEngineSetting(process.env.PROMETHEUS_ENGINE);
} catch (err) {
  fail((err as Error).message);
}
// Notices carry the isolation page's signed link when PORTAL_SECRET and PORTAL_PUBLIC_URL are set.
let notices: ReturnType<typeof noticeExtensions> = () => [];
try {
  const links = portalSettings(process.env).links;
  notices = noticeExtensions(
    process.env,
    links ? (subscriptionId) => portalLink(links, subscriptionId, new Date()).url : undefined,
  );
} catch (err) {
  fail((err as Error).message);
}
const sla = slaExtensions(process.env);

const runtime = await startRuntime({
  databaseUrl,
  encryptionKey,
  host: process.env.HOST ?? '0.0.0.0',
  port: Number(process.env.PORT ?? 8090),
  logger,
  policy,
  inventoryDir: process.env.ISPMON_INVENTORY_DIR ?? './var/inventory',
  ...(process.env.PROMETHEUS_URL ? { prometheusUrl: process.env.PROMETHEUS_URL, prometheusEngine } : {}),
  ...(serverKey
    ? {
        midtrans: {
          serverKey,
          isProduction: process.env.MIDTRANS_PRODUCTION === 'true',
          ...(process.env.MIDTRANS_CLIENT_KEY ? { clientKey: process.env.MIDTRANS_CLIENT_KEY } : {}),
          ...(process.env.MIDTRANS_SNAP_URL ? { snapBaseUrl: process.env.MIDTRANS_SNAP_URL } : {}),
          ...(process.env.MIDTRANS_API_URL ? { coreBaseUrl: process.env.MIDTRANS_API_URL } : {}),
        },
      }
    : {}),
  ...(process.env.BILLING_ADMIN_TOKEN ? { adminToken: process.env.BILLING_ADMIN_TOKEN } : {}),
  jobs: { cycleMs: cycleSeconds * 1000 },
  gateway,
  extensions: (deps) => [...sla(deps), ...portal(deps), ...notices(deps)],
}).catch((err: unknown) => {
  logger.fatal({ event: 'start_failed', error: (err as Error).message }, 'billing could not start');
  process.exit(1);
});
if (!serverKey)
  logger.warn(
    { event: 'midtrans_disabled' },
    'MIDTRANS_SERVER_KEY not set: Snap payments and notifications are off',
  );
logger.info({ event: 'listening', url: runtime.url }, `billing listening on ${runtime.url}`);

// The first SIGTERM/SIGINT finishes requests and the job rounds in flight; a second one waits for that.
stopOnSignals(logger, () => runtime.stop());
