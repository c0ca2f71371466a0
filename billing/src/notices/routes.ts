// The notices' staff routes: list (filters), one with its attempts, resend, and each customer's channels,
// language and opt-out. Handlers parse (zod) and answer; the scan and the outbox do the work.
import type express from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { MountTools } from '../app.js';
import { listTable } from '../db/list.js';
import { ApiError, audit, notFound, one, q, tx } from '../db/sql.js';
import { parseBody, present } from '../resources.js';
import {
  configuredChannels,
  LANGUAGES,
  NOTICE_CHANNELS,
  NOTICE_EVENTS,
  type NoticeConfig,
} from './config.js';

const id = z.string().regex(/^\d{1,18}$/, 'a positive integer');

export const noticeListSchema = z.object({
  status: z.enum(['pending', 'sent', 'dead', 'suppressed', 'superseded']).optional(),
  event: z.enum(NOTICE_EVENTS).optional(),
  channel: z.enum(NOTICE_CHANNELS).optional(),
  customer_id: id.optional(),
  subscription_id: id.optional(),
  invoice_id: id.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const noticeSettingsSchema = z.strictObject({
  /** Channels the customer wants notices on (of those billing has configured); empty: none. */
  channels: z
    .array(z.enum(NOTICE_CHANNELS))
    .max(NOTICE_CHANNELS.length)
    .refine((c) => new Set(c).size === c.length, 'each channel once')
    .optional(),
  language: z.enum(LANGUAGES).optional(),
  /** No notices at all (they are recorded as suppressed). */
  opted_out: z.boolean().optional(),
});

const COLUMNS =
  'id, event, channel, customer_id, subscription_id, invoice_id, audit_id, language, recipient, status, attempts, generation, next_attempt_at, last_error, created_at, sent_at';

interface RouteDeps {
  orm: MikroORM;
  config: NoticeConfig;
  /** Starts a delivery round now (after a resend). */
  kick(): void;
}

async function settings(
  orm: MikroORM,
  config: NoticeConfig,
  customerId: string,
): Promise<Record<string, unknown>> {
  const customer = await one<{ id: string; email: string | null; phone: string | null }>(
    orm.em.fork(),
    'select id, email, phone from customers where id = ?',
    [customerId],
  );
  if (!customer) throw notFound('customer', customerId);
  const row = await one<{ channels: string[]; language: string; opted_out: boolean; updated_at: Date }>(
    orm.em.fork(),
    'select channels, language, opted_out, updated_at from notice_settings where customer_id = ?',
    [customerId],
  );
  return {
    customer_id: Number(customerId),
    channels: row?.channels ?? configuredChannels(config),
    language: row?.language ?? config.default_language,
    opted_out: row?.opted_out ?? false,
    configured_channels: configuredChannels(config),
    addresses: { email: customer.email, phone: customer.phone },
    updated_at: row ? new Date(row.updated_at).toISOString() : null,
  };
}

export function mountNoticeRoutes(api: express.Router, t: MountTools, d: RouteDeps): void {
  api.get(
    '/notices',
    t.read,
    t.h(async (req) => {
      const query = parseBody(noticeListSchema, req.query);
      return listTable(
        d.orm.em.fork(),
        'notices',
        query,
        ['status', 'event', 'channel', 'customer_id', 'subscription_id', 'invoice_id'],
        COLUMNS,
      );
    }),
  );
  api.get(
    '/notices/:id',
    t.read,
    t.h(async (req) => {
      const em = d.orm.em.fork();
      const row = await one<Record<string, unknown>>(em, `select ${COLUMNS} from notices where id = ?`, [
        t.id(req),
      ]);
      if (!row) throw notFound('notice', t.id(req));
      const attempts = await q<Record<string, unknown>>(
        em,
        'select id, at, ok, error, duration_ms from notice_attempts where notice_id = ? order by id',
        [t.id(req)],
      );
      return { ...present(undefined, row), delivery_attempts: attempts.map((a) => present(undefined, a)) };
    }),
  );
  api.post(
    '/notices/:id/resend',
    t.write,
    t.h(async (req) => {
      const noticeId = t.id(req);
      await tx(d.orm, async (em) => {
        const n = await one<{ status: string; attempts: number; generation: number }>(
          em,
          'select status, attempts, generation from notices where id = ? for update',
          [noticeId],
        );
        if (!n) throw notFound('notice', noticeId);
        if (n.status !== 'sent' && n.status !== 'dead')
          throw new ApiError(
            409,
            n.status === 'pending'
              ? `notice ${noticeId} is still pending; it goes out by itself`
              : `notice ${noticeId} is ${n.status}; only a sent or dead notice can be resent`,
          );
        // A new key (generation), so a gateway that deduplicates by key delivers it again.
        await q(
          em,
          `update notices set status = 'pending', generation = generation + 1, dead_after = attempts + ?, next_attempt_at = ?,
                  last_error = null where id = ?`,
          [d.config.max_attempts, t.now(), noticeId],
        );
        await audit(em, t.now(), {
          actor: t.actor(req),
          entity: 'notices',
          entityId: noticeId,
          action: 'resend',
          fromState: n.status,
          toState: 'pending',
          detail: { generation: n.generation + 1 },
        });
      });
      d.kick();
      const row = await one<Record<string, unknown>>(
        d.orm.em.fork(),
        `select ${COLUMNS} from notices where id = ?`,
        [noticeId],
      );
      return present(undefined, row ?? {});
    }),
  );
  api.get(
    '/customers/:id/notice-settings',
    t.read,
    t.h(async (req) => settings(d.orm, d.config, t.id(req))),
  );
  api.put(
    '/customers/:id/notice-settings',
    t.write,
    t.h(async (req) => {
      const customerId = t.id(req);
      const body = parseBody(noticeSettingsSchema, req.body);
      const before = await settings(d.orm, d.config, customerId);
      const after = {
        channels: body.channels ?? (before.channels as string[]),
        language: body.language ?? (before.language as string),
        opted_out: body.opted_out ?? (before.opted_out as boolean),
      };
      await tx(d.orm, async (em) => {
        await q(
          em,
          `insert into notice_settings (customer_id, channels, language, opted_out, updated_at) values (?, ?::text[], ?, ?, ?)
           on conflict (customer_id) do update set channels = excluded.channels, language = excluded.language,
             opted_out = excluded.opted_out, updated_at = excluded.updated_at`,
          [customerId, `{${after.channels.join(',')}}`, after.language, after.opted_out, t.now()],
        );
        await audit(em, t.now(), {
          actor: t.actor(req),
          entity: 'customers',
          entityId: customerId,
          action: 'notice_settings',
          detail: { before: { ...before, addresses: undefined }, after },
        });
      });
      return settings(d.orm, d.config, customerId);
    }),
  );
}
