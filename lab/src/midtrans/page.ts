// The stand-in's Snap page: what a customer sees behind redirect_url, reduced to the amount, the order
// and a "Pay" button (a plain form, so it works from curl and a browser alike).
import type { FakeTransaction, NotificationDelivery } from './fake.js';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const rupiah = (gross: string): string => `Rp ${BigInt(gross.split('.')[0] ?? '0').toLocaleString('id-ID')}`;

const layout = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>` +
  '<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}button{font-size:1.2rem;padding:.5rem 2rem}</style>' +
  `</head><body><h1>${escape(title)}</h1>${body}<p><small>Midtrans stand-in (ispmon lab): no money moves.</small></p></body></html>`;

export function snapPage(t: FakeTransaction, error?: string): string {
  return layout(
    'Pay with Midtrans',
    `<p>Order <code>${escape(t.order_id)}</code></p><p><strong>${rupiah(t.gross_amount)}</strong></p>` +
      `<p>Status: ${escape(t.transaction_status)}</p>` +
      (error ? `<p role="alert">${escape(error)}</p>` : '') +
      (t.transaction_status === 'pending'
        ? `<form method="post" action="/snap/v4/redirection/${encodeURIComponent(t.token)}/pay">` +
          '<label>Method <select name="payment_type"><option value="bank_transfer">BCA virtual account</option>' +
          '<option value="qris">QRIS</option><option value="gopay">GoPay</option>' +
          '<option value="credit_card">Card</option></select></label> <button type="submit">Pay</button></form>'
        : ''),
  );
}

/** Snap's "back to merchant": the request's callbacks.finish with order_id, status_code and transaction_status. */
function finishLink(t: FakeTransaction): string {
  const finish = (t.request.callbacks as { finish?: unknown } | undefined)?.finish;
  if (typeof finish !== 'string') return '';
  let url: URL;
  try {
    url = new URL(finish);
  } catch {
    return '';
  }
  url.searchParams.set('order_id', t.order_id);
  url.searchParams.set('status_code', t.status_code);
  url.searchParams.set('transaction_status', t.transaction_status);
  return `<p><a id="finish" href="${escape(url.toString())}">Back to the merchant</a></p>`;
}

export function paidPage(t: FakeTransaction, delivery: NotificationDelivery | Error | undefined): string {
  const sent =
    delivery === undefined
      ? 'No notification URL is configured: the merchant learns of it by asking the status API.'
      : delivery instanceof Error
        ? `The notification could not be delivered: ${delivery.message}`
        : `The merchant answered the notification with HTTP ${delivery.status}: ${JSON.stringify(delivery.body)}`;
  return layout(
    'Payment successful',
    `<p>Order <code>${escape(t.order_id)}</code>, ${rupiah(t.gross_amount)}, ${escape(t.payment_type)}: ${escape(t.transaction_status)}.</p>` +
      `<p id="notification">${escape(sent)}</p>${finishLink(t)}`,
  );
}
