// A Midtrans stand-in on loopback for tests and the demo: Snap's POST /snap/v1/transactions, the
// Snap payment page behind each redirect_url, and the Core API's GET /v2/{order_id}/status, over real
// HTTP with Basic auth (server key as user), answering with Midtrans's documented field names, status
// codes and error bodies. Control methods move a transaction (settle, expire, capture, …) and return
// the HTTP notification Midtrans would POST; notify() delivers it. The page's "Pay" button settles the
// transaction and sends that notification to the configured notification URL, as Midtrans does.
// The signature is computed here on its own (not imported from billing): a stand-in that shared the
// code under test would agree with any mistake in it.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { paidPage, snapPage } from './page.js';
import { HTTP_SERVER_OPTIONS } from '../keep-alive.js';

export type PaymentType = 'bank_transfer' | 'qris' | 'gopay' | 'credit_card';

export interface FakeTransaction {
  order_id: string;
  gross_amount: string; // "150000.00"
  transaction_id: string;
  transaction_status: string;
  fraud_status?: string;
  status_code: string;
  payment_type: string;
  transaction_time: string;
  settlement_time?: string;
  expiry_time: string;
  token: string;
  request: Record<string, unknown>;
}

export interface NotificationDelivery {
  status: number;
  body: unknown;
}

export interface MidtransFake {
  url: string;
  snapUrl: string;
  /** Where the page's "Pay" button sends the HTTP notification (Midtrans's "Payment Notification URL"). */
  notificationUrl: string | undefined;
  transactions(): FakeTransaction[];
  requests: Array<{ method: string; path: string; authorized: boolean }>;
  settle(orderId: string, o?: { paymentType?: PaymentType; at?: Date }): Record<string, unknown>;
  pend(orderId: string, o?: { paymentType?: string }): Record<string, unknown>;
  expire(orderId: string): Record<string, unknown>;
  cancel(orderId: string): Record<string, unknown>;
  deny(orderId: string): Record<string, unknown>;
  capture(orderId: string, fraud: 'accept' | 'challenge' | 'deny'): Record<string, unknown>;
  refund(orderId: string): Record<string, unknown>;
  /** The notification for the transaction as it stands, without moving it. */
  notificationFor(orderId: string): Record<string, unknown>;
  notify(url: string, body: Record<string, unknown>): Promise<NotificationDelivery>;
  close(): Promise<void>;
}

const MERCHANT_ID = 'G123456789';

/** SHA512(order_id + status_code + gross_amount + server_key), hex, as Midtrans signs notifications. */
export function midtransSignatureKey(
  orderId: string,
  statusCode: string,
  grossAmount: string,
  serverKey: string,
): string {
  return createHash('sha512').update(`${orderId}${statusCode}${grossAmount}${serverKey}`).digest('hex');
}

/** "YYYY-MM-DD HH:mm:ss" in Asia/Jakarta (UTC+7, no DST), as Midtrans writes times. */
function jakartaTime(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

const PAYMENT_TYPES: readonly PaymentType[] = ['bank_transfer', 'qris', 'gopay', 'credit_card'];

export async function startMidtransFake(o: {
  serverKey: string;
  now?: () => Date;
  notificationUrl?: string;
  /** Loopback address to listen on (default 127.0.0.1); another one keeps it apart from billing. */
  host?: string;
}): Promise<MidtransFake> {
  const now = o.now ?? (() => new Date());
  const txs = new Map<string, FakeTransaction>();
  const requests: MidtransFake['requests'] = [];
  const expectedAuth = `Basic ${Buffer.from(`${o.serverKey}:`).toString('base64')}`;

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const sendHtml = (res: ServerResponse, status: number, html: string): void => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  };
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const byToken = (token: string): FakeTransaction | undefined =>
    [...txs.values()].find((t) => t.token === token);

  const notification = (t: FakeTransaction): Record<string, unknown> => {
    const body: Record<string, unknown> = {
      transaction_time: t.transaction_time,
      transaction_status: t.transaction_status,
      transaction_id: t.transaction_id,
      status_message: 'midtrans payment notification',
      status_code: t.status_code,
      signature_key: midtransSignatureKey(t.order_id, t.status_code, t.gross_amount, o.serverKey),
      payment_type: t.payment_type,
      order_id: t.order_id,
      merchant_id: MERCHANT_ID,
      gross_amount: t.gross_amount,
      currency: 'IDR',
      expiry_time: t.expiry_time,
    };
    if (t.fraud_status) body.fraud_status = t.fraud_status;
    if (t.settlement_time) body.settlement_time = t.settlement_time;
    if (t.payment_type === 'bank_transfer')
      body.va_numbers = [
        { bank: 'bca', va_number: `12345${t.order_id.replace(/\D/g, '').slice(-6).padStart(6, '0')}` },
      ];
    if (t.payment_type === 'qris') body.acquirer = 'gopay';
    return body;
  };

  const move = (orderId: string, change: Partial<FakeTransaction>): Record<string, unknown> => {
    const t = txs.get(orderId);
    if (!t) throw new Error(`Midtrans stand-in: no transaction ${orderId}`);
    Object.assign(t, change);
    return notification(t);
  };

  const settle = (id: string, so: { paymentType?: PaymentType; at?: Date } = {}): Record<string, unknown> =>
    move(id, {
      transaction_status: 'settlement',
      status_code: '200',
      payment_type: so.paymentType ?? 'bank_transfer',
      settlement_time: jakartaTime(so.at ?? now()),
      ...(so.paymentType === 'credit_card' ? { fraud_status: 'accept' } : {}),
    });

  const notify = async (url: string, body: Record<string, unknown>): Promise<NotificationDelivery> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Veritrans' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };

  const createTransaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return send(res, 400, { error_messages: ['transaction_details is required'] });
    }
    const td = body.transaction_details as { order_id?: unknown; gross_amount?: unknown } | undefined;
    if (!td || typeof td.order_id !== 'string' || td.order_id === '')
      return send(res, 400, { error_messages: ['transaction_details.order_id is required'] });
    if (typeof td.gross_amount !== 'number' || !Number.isInteger(td.gross_amount) || td.gross_amount < 1)
      return send(res, 400, {
        error_messages: ['transaction_details.gross_amount must be greater than or equal to 0.01'],
      });
    const items = body.item_details as Array<{ price: number; quantity: number }> | undefined;
    if (items && items.reduce((a, i) => a + i.price * i.quantity, 0) !== td.gross_amount)
      return send(res, 400, {
        error_messages: ['transaction_details.gross_amount is not equal to the sum of item_details'],
      });
    if (txs.has(td.order_id))
      return send(res, 400, { error_messages: ['transaction_details.order_id sudah digunakan'] });
    const token = randomUUID();
    const expiry = body.expiry as { duration?: number; unit?: string } | undefined;
    const minutes =
      expiry?.unit === 'minute'
        ? (expiry.duration ?? 1440)
        : expiry?.unit === 'hour'
          ? (expiry.duration ?? 24) * 60
          : 1440;
    txs.set(td.order_id, {
      order_id: td.order_id,
      gross_amount: `${td.gross_amount}.00`,
      transaction_id: randomUUID(),
      transaction_status: 'pending',
      status_code: '201',
      payment_type: 'bank_transfer',
      transaction_time: jakartaTime(now()),
      expiry_time: jakartaTime(new Date(now().getTime() + minutes * 60_000)),
      token,
      request: body,
    });
    // Snap has no transaction at Midtrans's core until the customer picks a method; the stand-in keeps
    // it from the start so status() can answer once a control method or the page moved it.
    send(res, 201, { token, redirect_url: `${fake.url}/snap/v4/redirection/${token}` });
  };

  const pay = async (t: FakeTransaction, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = new URLSearchParams(await readBody(req));
    const wanted = form.get('payment_type') ?? 'bank_transfer';
    const paymentType = PAYMENT_TYPES.find((p) => p === wanted);
    if (!paymentType) return sendHtml(res, 400, snapPage(t, `unknown payment method '${wanted}'`));
    if (t.transaction_status !== 'pending')
      return sendHtml(res, 409, snapPage(t, `this transaction is ${t.transaction_status}`));
    const body = settle(t.order_id, { paymentType });
    if (!fake.notificationUrl) return sendHtml(res, 200, paidPage(t, undefined));
    let delivery: NotificationDelivery | Error;
    try {
      delivery = await notify(fake.notificationUrl, body);
    } catch (err) {
      delivery = err as Error;
    }
    sendHtml(res, 200, paidPage(t, delivery));
  };

  const server: Server = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const authorized = req.headers.authorization === expectedAuth;
      requests.push({ method: req.method ?? '', path, authorized });
      if (req.method === 'POST' && path === '/snap/v1/transactions') {
        if (!authorized)
          return send(res, 401, {
            error_messages: [
              'Access denied due to unauthorized transaction, please check client or server key',
              'Visit https://snap-docs.midtrans.com/#request-headers for more details',
            ],
          });
        return createTransaction(req, res);
      }
      const page = /^\/snap\/v4\/redirection\/([^/]+?)(\/pay)?$/.exec(path);
      if (page?.[1]) {
        const t = byToken(decodeURIComponent(page[1]));
        if (!t)
          return sendHtml(res, 404, '<!doctype html><title>Not found</title><p>Unknown payment link.</p>');
        if (req.method === 'GET' && !page[2]) return sendHtml(res, 200, snapPage(t));
        if (req.method === 'POST' && page[2]) return pay(t, req, res);
      }
      const status = /^\/v2\/([^/]+)\/status$/.exec(path);
      if (req.method === 'GET' && status?.[1]) {
        if (!authorized)
          return send(res, 401, {
            status_code: '401',
            status_message: 'Access denied, please check client or server key',
            id: randomUUID(),
          });
        const t = txs.get(decodeURIComponent(status[1]));
        if (!t)
          return send(res, 404, {
            status_code: '404',
            status_message: "Transaction doesn't exist.",
            id: randomUUID(),
          });
        return send(res, 200, { ...notification(t), status_message: 'Success, transaction is found' });
      }
      send(res, 404, { status_code: '404', status_message: 'The requested resource is not found' });
    })().catch((err: unknown) =>
      send(res, 500, { status_code: '500', status_message: (err as Error).message }),
    );
  });

  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const fake: MidtransFake = {
    url: `http://${host}:${port}`,
    snapUrl: `http://${host}:${port}/snap/v1`,
    notificationUrl: o.notificationUrl,
    requests,
    transactions: () => [...txs.values()],
    settle,
    pend: (id, po = {}) =>
      move(id, {
        transaction_status: 'pending',
        status_code: '201',
        payment_type: po.paymentType ?? 'bank_transfer',
      }),
    expire: (id) => move(id, { transaction_status: 'expire', status_code: '407' }),
    cancel: (id) => move(id, { transaction_status: 'cancel', status_code: '200' }),
    deny: (id) =>
      move(id, {
        transaction_status: 'deny',
        status_code: '202',
        payment_type: 'credit_card',
        fraud_status: 'deny',
      }),
    capture: (id, fraud) =>
      move(id, {
        transaction_status: 'capture',
        // Midtrans: 200 accepted, 201 held for review (challenge), 202 denied by the fraud system.
        status_code: fraud === 'accept' ? '200' : fraud === 'challenge' ? '201' : '202',
        payment_type: 'credit_card',
        fraud_status: fraud,
      }),
    refund: (id) => move(id, { transaction_status: 'refund', status_code: '200' }),
    notificationFor: (id) => move(id, {}),
    notify,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return fake;
}
