// One sender per notice channel, each speaking its real wire format with the notice's stable key:
// e-mail over SMTP (Message-ID from the key, the SMTP_URL transport the SLA reports use), and the HTTP
// gateways ISPs use for SMS and WhatsApp (POST with a token header and templated fields; Idempotency-Key).
import Handlebars from 'handlebars';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, postWithKey, resolveSecret } from '@ispmon/service-kit';
import { redactCredentials } from '../sla/mail.js';
import type { GatewayConfig, NoticeChannel, NoticeConfig } from './config.js';
import type { NoticeText } from './messages.js';

export interface Outgoing {
  to: string;
  key: string;
  text: NoticeText;
}

export type Send = (m: Outgoing, signal: AbortSignal) => Promise<void>;

export interface Senders {
  get(channel: string): Send | undefined;
  close(): void;
}

function emailSender(smtpUrl: string, from: string, timeoutMs: number): { send: Send; close(): void } {
  let transport: Transporter | undefined;
  return {
    send: async (m) => {
      transport ??= nodemailer.createTransport({
        url: smtpUrl,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      try {
        // Message-ID from the notice key: a repeated send shows as one message in the customer's mailbox.
        await transport.sendMail({
          from,
          to: m.to,
          subject: m.text.subject,
          text: m.text.body,
          messageId: `<${m.key}@ispmon>`,
        });
      } catch (err) {
        const e = err as { message: string; responseCode?: number };
        // 5xx from the server (no such mailbox, refused) does not get better by retrying.
        throw new DeliveryError(
          `email: ${redactCredentials(e.message)}`,
          undefined,
          typeof e.responseCode === 'number' && e.responseCode >= 500,
        );
      }
    },
    close: () => transport?.close(),
  };
}

/**
 * A phone number as gateways want it: digits only, international, no plus ("+62 812-1111 2222" and
 * "0812 1111 2222" → "6281211112222"); numbers in the national form are taken as Indonesian.
 */
export function gatewayNumber(raw: string): string {
  const digits = raw.replace(/[^\d]/g, '');
  return digits.startsWith('0') ? `62${digits.slice(1)}` : digits;
}

function gatewaySender(channel: NoticeChannel, g: GatewayConfig, env: NodeJS.ProcessEnv): Send {
  const token = resolveSecret(g.token, `${channel}.token`, env);
  const fields = Object.entries(g.body).map(
    ([name, template]) => [name, Handlebars.compile(template, { noEscape: true })] as const,
  );
  return async (m, signal) => {
    const values = {
      to: gatewayNumber(m.to),
      message: `${m.text.subject}\n${m.text.body}`.trim(),
      key: m.key,
    };
    const body = Object.fromEntries(fields.map(([name, t]) => [name, t(values)]));
    const headers: Record<string, string> = {
      'content-type': g.format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    };
    if (token) headers[g.auth_header.toLowerCase()] = g.auth_scheme ? `${g.auth_scheme} ${token}` : token;
    const res = await postWithKey(g.url, {
      body: g.format === 'json' ? JSON.stringify(body) : new URLSearchParams(body).toString(),
      headers,
      key: m.key,
      what: channel,
      signal,
    });
    if (!g.success_field) {
      await res.arrayBuffer();
      return;
    }
    let answer: Record<string, unknown>;
    try {
      answer = (await res.json()) as Record<string, unknown>;
    } catch {
      throw new DeliveryError(`${channel}: the gateway's answer is not JSON`);
    }
    if (answer[g.success_field] !== true) {
      const reason = [answer.reason, answer.message, answer.detail].find((v) => typeof v === 'string');
      throw new DeliveryError(
        `${channel}: gateway answered ${g.success_field}=${JSON.stringify(answer[g.success_field] ?? null)}${reason ? `: ${String(reason).slice(0, 200)}` : ''}`,
      );
    }
  };
}

/** The senders of the configured channels; the e-mail transport is opened on the first mail. */
export function makeSenders(c: NoticeConfig, env: NodeJS.ProcessEnv = process.env): Senders {
  const timeoutMs = c.delivery_timeout_seconds * 1000;
  const senders = new Map<string, Send>();
  const closers: Array<() => void> = [];
  if (c.email) {
    const url = resolveSecret(c.email.smtp_url, 'email.smtp_url', env) ?? env.SMTP_URL;
    if (!url) throw new Error('email: smtp_url is not set and neither is SMTP_URL');
    const e = emailSender(url, c.email.from, timeoutMs);
    senders.set('email', e.send);
    closers.push(e.close);
  }
  if (c.sms) senders.set('sms', gatewaySender('sms', c.sms, env));
  if (c.whatsapp) senders.set('whatsapp', gatewaySender('whatsapp', c.whatsapp, env));
  return {
    get: (channel) => senders.get(channel),
    close: () => closers.forEach((close) => close()),
  };
}
