// The Snap payment page of the Midtrans stand-in, as a customer sees it: billing creates a transaction,
// the customer opens its redirect_url, presses "Pay" and the stand-in settles the transaction and posts
// the signed HTTP notification to billing, as Midtrans does.
// TEMPORARY: the stand-in today (billing/src/testing/midtrans-fake.ts) answers 404 on redirect_url. This
// front serves that page over the stand-in's own control methods until the stand-in (moving to
// lab/src/midtrans/) serves its own Pay page; then the demo points billing at the stand-in directly and
// this file goes. The story (story.ts) only uses the page, never these internals.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { MidtransFake } from '@ispmon/lab';

export interface SnapPayFront {
  /** Base URL to give billing as Snap's base URL. */
  url: string;
  close(): Promise<void>;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSnapPayFront(o: {
  fake: MidtransFake;
  /** Billing's Midtrans notification endpoint. */
  notificationUrl: () => string;
}): Promise<SnapPayFront> {
  let base = '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const page = /^\/snap\/v4\/redirection\/([0-9a-f-]+)(\/pay)?$/.exec(path);
      if (page?.[1]) {
        const tx = o.fake.transactions().find((t) => t.token === page[1]);
        if (!tx) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown or expired Snap token');
          return;
        }
        if (req.method === 'POST' && page[2]) {
          if (tx.transaction_status !== 'pending') {
            res
              .writeHead(409, { 'content-type': 'text/plain' })
              .end(`transaction is ${tx.transaction_status}`);
            return;
          }
          const notification = o.fake.settle(tx.order_id, { paymentType: 'qris' });
          const delivered = await o.fake.notify(o.notificationUrl(), notification);
          res
            .writeHead(delivered.status < 300 ? 200 : 502, { 'content-type': 'text/html; charset=utf-8' })
            .end(
              `<!doctype html><title>Payment ${escapeHtml(tx.order_id)}</title><p id="result">${
                delivered.status < 300
                  ? 'Payment successful'
                  : `Merchant refused the notification (${delivered.status})`
              }: order ${escapeHtml(tx.order_id)}, Rp ${escapeHtml(tx.gross_amount)}</p>`,
            );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
          `<!doctype html><title>Midtrans stand-in: pay ${escapeHtml(tx.order_id)}</title>
<h1>Pay Rp ${escapeHtml(tx.gross_amount)}</h1><p>Order ${escapeHtml(tx.order_id)} (${escapeHtml(tx.transaction_status)})</p>
<form method="post" action="/snap/v4/redirection/${escapeHtml(tx.token)}/pay"><button type="submit">Pay</button></form>`,
        );
        return;
      }
      // Everything else (Snap API, Core API status) goes to the stand-in unchanged, except that
      // redirect_url points at this page.
      const body = req.method === 'GET' ? undefined : await readBody(req);
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type', 'accept'])
        if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
      const upstream = await fetch(`${o.fake.url}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      let text = await upstream.text();
      if (path === '/snap/v1/transactions') text = text.replaceAll(o.fake.url, base);
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
      });
      res.end(text);
    })().catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end((err as Error).message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  return {
    url: base,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
