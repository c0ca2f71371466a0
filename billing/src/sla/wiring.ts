// SLA reports wired from the environment (12-factor): PROMETHEUS_URL, PROMETHEUS_ENGINE, SMTP_URL, SLA_MAIL_FROM,
// SLA_PROVIDER_NAME / _ADDRESS / _EMAIL / _PHONE / _LOGO_FILE (SVG) / _ACCENT_COLOR, CHROMIUM_PATH,
// SLA_RENDER_CONCURRENCY.
import { readFileSync } from 'node:fs';
import type { ApiExtension } from '../app.js';
import { parseEngineSetting } from '../prometheus/engine.js';
import type { RuntimeDeps } from '../runtime.js';
import { PrometheusSlaSource } from './prometheus.js';
import { SlaService } from './service.js';

export function slaExtensions(env: NodeJS.ProcessEnv): (deps: RuntimeDeps) => ApiExtension[] {
  const engine = parseEngineSetting(env.PROMETHEUS_ENGINE);
  return (deps) => [
    new SlaService({
      ...deps,
      source: env.PROMETHEUS_URL ? new PrometheusSlaSource({ url: env.PROMETHEUS_URL, engine }) : undefined,
      provider: {
        name: env.SLA_PROVIDER_NAME ?? 'ispmon ISP',
        ...(env.SLA_PROVIDER_ADDRESS ? { address: env.SLA_PROVIDER_ADDRESS } : {}),
        ...(env.SLA_PROVIDER_EMAIL ? { email: env.SLA_PROVIDER_EMAIL } : {}),
        ...(env.SLA_PROVIDER_PHONE ? { phone: env.SLA_PROVIDER_PHONE } : {}),
        ...(env.SLA_PROVIDER_LOGO_FILE ? { logoSvg: readFileSync(env.SLA_PROVIDER_LOGO_FILE, 'utf8') } : {}),
        ...(env.SLA_ACCENT_COLOR ? { accentColor: env.SLA_ACCENT_COLOR } : {}),
      },
      ...(env.SMTP_URL ? { smtpUrl: env.SMTP_URL } : {}),
      ...(env.SLA_MAIL_FROM ? { mailFrom: env.SLA_MAIL_FROM } : {}),
      ...(env.CHROMIUM_PATH ? { chromiumPath: env.CHROMIUM_PATH } : {}),
      ...(env.SLA_RENDER_CONCURRENCY ? { renderConcurrency: Number(env.SLA_RENDER_CONCURRENCY) } : {}),
    }),
  ];
}
