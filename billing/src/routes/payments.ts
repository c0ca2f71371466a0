// Payments and Midtrans: the lists, the status poll, and the HTTP notification endpoint (outside
// /api/v1: Midtrans authenticates by signature_key, not by a staff token).
import express from 'express';
import type { AppOptions, MountTools } from '../app.js';
import { listTable } from '../db/list.js';

export function mountPayments(api: express.Router, t: MountTools, o: AppOptions): void {
  api.get(
    '/payments',
    t.read,
    t.h(async (req) =>
      listTable(
        o.orm.em.fork(),
        'payments',
        req.query as Record<string, unknown>,
        ['invoice_id', 'method', 'provider_order_id'],
        'id, invoice_id, method, amount_idr, reference, provider_order_id, provider_transaction_id, payment_type, received_at, recorded_by',
      ),
    ),
  );
  api.get(
    '/midtrans/notifications',
    t.read,
    t.h(async (req) =>
      listTable(
        o.orm.em.fork(),
        'midtrans_notifications',
        req.query as Record<string, unknown>,
        ['order_id', 'outcome', 'source', 'signature_valid'],
        '*',
      ),
    ),
  );
  api.post(
    '/midtrans/poll',
    t.write,
    t.h(async () => o.payments.pollPending(t.now())),
  );
}

/** The raw body is kept as sent (bytes), so what Midtrans posted is stored even when it is not JSON. */
export function mountMidtransNotification(
  app: express.Router,
  t: MountTools,
  o: AppOptions,
  limit: number,
): void {
  app.post(
    '/payments/midtrans/notification',
    express.raw({ type: () => true, limit }),
    t.h(async (req, res) => {
      const body: unknown = req.body;
      const r = await o.payments.handleNotification(Buffer.isBuffer(body) ? body : Buffer.alloc(0), t.now());
      res.status(r.status).json(r.body);
    }),
  );
}
