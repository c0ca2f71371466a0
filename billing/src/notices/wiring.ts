// Notices wired from the environment (12-factor): BILLING_NOTICES names the YAML file of config.ts's
// settings (channels, reminders, quiet hours); without it billing queues nothing (no channel configured).
// SMTP_URL is the e-mail transport when the file gives no smtp_url. The payment link maker is the
// isolation page's signed-link function, passed in by the composition root.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ApiExtension } from '../app.js';
import type { RuntimeDeps } from '../runtime.js';
import { parseNoticeConfig, type NoticeConfig } from './config.js';
import { NoticeService } from './service.js';

export function readNoticeConfig(env: NodeJS.ProcessEnv): NoticeConfig {
  const file = env.BILLING_NOTICES;
  if (!file) return parseNoticeConfig({}, 'defaults');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`BILLING_NOTICES ${file}: ${(err as Error).message}`);
  }
  return parseNoticeConfig(parse(text) as unknown, `BILLING_NOTICES ${file}`);
}

export function noticeExtensions(
  env: NodeJS.ProcessEnv,
  paymentLink?: (subscriptionId: string) => string,
): (deps: RuntimeDeps) => ApiExtension[] {
  const config = readNoticeConfig(env);
  return (deps) => [new NoticeService(deps, { config, env, ...(paymentLink ? { paymentLink } : {}) })];
}
