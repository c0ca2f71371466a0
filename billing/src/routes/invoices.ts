// Invoices: manual ones, cancellation, cash/transfer payments and Midtrans Snap orders.
import type express from 'express';
import type { AppOptions, MountTools } from '../app.js';

export function mountInvoices(api: express.Router, t: MountTools, o: AppOptions): void {
  api.get(
    '/invoices',
    t.read,
    t.h((req) => o.invoices.list(req.query as Record<string, unknown>)),
  );
  api.post(
    '/invoices',
    t.write,
    t.h((req) => o.invoices.createManual(req.body, t.actor(req), t.now()), 201),
  );
  api.get(
    '/invoices/:id',
    t.read,
    t.h((req) => o.invoices.get(t.id(req))),
  );
  api.post(
    '/invoices/:id/cancel',
    t.write,
    t.h((req) => o.invoices.cancel(t.id(req), req.body, t.actor(req), t.now())),
  );
  api.post(
    '/invoices/:id/payments',
    t.write,
    t.h((req) => o.invoices.payManually(t.id(req), req.body, t.actor(req), t.now()), 201),
  );
  api.post(
    '/invoices/:id/midtrans',
    t.write,
    t.h((req) => o.payments.createSnap(t.id(req), t.actor(req), t.now()), 201),
  );
}
