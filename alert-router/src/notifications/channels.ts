// One delivery function per channel type, each speaking the service's real wire format.
import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import { DeliveryError, postWithKey, resolveSecret } from '@ispmon/service-kit';
import type { ChannelConfig } from '../config.js';
import { plainText, telegramHtml, title, type NotificationMessage } from './message.js';

/** One send; `signal` aborts it when the outbox's delivery timeout passes. */
export type Deliver = (message: NotificationMessage, signal: AbortSignal) => Promise<void>;

/** The same key on every attempt of this notification, so a receiver can drop the repeat a crash causes. */
const post = (
  url: string,
  body: string,
  headers: Record<string, string>,
  what: string,
  m: NotificationMessage,
  signal: AbortSignal,
): Promise<Response> => postWithKey(url, { body, headers, key: m.notification.key, what, signal });

export function makeDeliver(name: string, c: ChannelConfig, timeoutMs = 10_000): Deliver {
  const where = `channels.${name}`;
  switch (c.type) {
    case 'telegram': {
      const token = resolveSecret(c.bot_token, `${where}.bot_token`) ?? '';
      const url = `${c.api_url.replace(/\/$/, '')}/bot${token}/sendMessage`;
      return async (m, signal) => {
        const res = await post(
          url,
          JSON.stringify({
            chat_id: c.chat_id,
            text: telegramHtml(m),
            parse_mode: 'HTML',
            disable_web_page_preview: true,
          }),
          { 'content-type': 'application/json' },
          `telegram ${name}`,
          m,
          signal,
        );
        const body = (await res.json()) as { ok?: boolean; description?: string };
        if (body.ok !== true) throw new DeliveryError(`telegram ${name}: ${body.description ?? 'not ok'}`);
      };
    }
    case 'slack': {
      const url = resolveSecret(c.webhook_url, `${where}.webhook_url`) ?? '';
      return async (m, signal) => {
        await post(
          url,
          JSON.stringify({ text: plainText(m) }),
          { 'content-type': 'application/json' },
          `slack ${name}`,
          m,
          signal,
        );
      };
    }
    case 'webhook': {
      const key = resolveSecret(c.secret, `${where}.secret`);
      return async (m, signal) => {
        const body = JSON.stringify({
          version: '1',
          kind: m.kind,
          notification: m.notification,
          incident: {
            id: m.incidentId,
            alertname: m.alertname,
            severity: m.severity,
            summary: m.summary,
            description: m.description,
            labels: m.labels,
            startsAt: m.startsAt,
            resolvedAt: m.resolvedAt ?? null,
            url: m.incidentUrl,
            runbookUrl: m.runbookUrl ?? null,
            dashboardUrl: m.dashboardUrl ?? null,
          },
          ...(m.firingDelivered === undefined ? {} : { firingDelivered: m.firingDelivered }),
        });
        const timestamp = String(Math.floor(Date.now() / 1000));
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-ispmon-timestamp': timestamp,
        };
        // Signature over "<timestamp>.<body>", so a captured request cannot be replayed later with a new time.
        if (key)
          headers['x-ispmon-signature'] =
            `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
        await post(c.url, body, headers, `webhook ${name}`, m, signal);
      };
    }
    case 'ntfy': {
      const token = resolveSecret(c.token, `${where}.token`);
      return async (m, signal) => {
        const headers: Record<string, string> = {
          title: title(m),
          priority: m.kind === 'resolved' ? '3' : m.severity === 'critical' ? '5' : '4',
          tags:
            m.kind === 'resolved'
              ? 'white_check_mark'
              : m.severity === 'critical'
                ? 'rotating_light'
                : 'warning',
          click: m.incidentUrl,
        };
        if (token) headers.authorization = `Bearer ${token}`;
        await post(
          `${c.url.replace(/\/$/, '')}/${encodeURIComponent(c.topic)}`,
          plainText(m),
          headers,
          `ntfy ${name}`,
          m,
          signal,
        );
      };
    }
    case 'sms': {
      const token = resolveSecret(c.token, `${where}.token`);
      return async (m, signal) => {
        const text = `${title(m)} ${m.incidentUrl}`.slice(0, 300);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (token) headers.authorization = `Bearer ${token}`;
        for (const to of c.to)
          await post(c.url, JSON.stringify({ to, message: text }), headers, `sms ${name}`, m, signal);
      };
    }
    case 'email': {
      const transport = nodemailer.createTransport({
        url: resolveSecret(c.smtp_url, `${where}.smtp_url`) ?? '',
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      return async (m) => {
        try {
          // Message-ID from the notification key: mail clients show a repeated send as one message.
          await transport.sendMail({
            from: c.from,
            to: c.to,
            subject: title(m),
            text: plainText(m),
            messageId: `<${m.notification.key}@ispmon>`,
          });
        } catch (err) {
          throw new DeliveryError(`email ${name}: ${(err as Error).message}`);
        }
      };
    }
  }
}
