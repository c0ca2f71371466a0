// A Midtrans stand-in on loopback for tests and the demo: Snap's POST /snap/v1/transactions and the
// Core API's GET /v2/{order_id}/status over real HTTP with Basic auth (server key as user), answering
// with Midtrans's documented field names, status codes and error bodies. Control methods move a
// transaction (settle, expire, capture, …) and return the HTTP notification Midtrans would POST,
// signed the way Midtrans signs it; notify() delivers it.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { midtransSignature } from '../payments/notification.js';

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

export interface MidtransFake {
  url: string;
  snapUrl: string;
  transactions(): FakeTransaction[];
  requests: Array<{ method: string; path: string; authorized: boolean }>;
  settle(
    orderId: string,
    o?: { paymentType?: 'bank_transfer' | 'qris' | 'gopay' | 'credit_card'; at?: Date },
  ): Record<string, unknown>;
  pend(orderId: string, o?: { paymentType?: string }): Record<string, unknown>;
  expire(orderId: string): Record<string, unknown>;
  cancel(orderId: string): Record<string, unknown>;
  deny(orderId: string): Record<string, unknown>;
  capture(orderId: string, fraud: 'accept' | 'challenge' | 'deny'): Record<string, unknown>;
  refund(orderId: string): Record<string, unknown>;
  notify(url: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const MERCHANT_ID = 'G123456789';

/** "YYYY-MM-DD HH:mm:ss" in Asia/Jakarta (UTC+7, no DST), as Midtrans writes times. */
function jakartaTime(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

const STATUS_MESSAGES: Record<string, string> = {
  '200': 'Success, transaction is found',
  '201': 'Success, transaction is found',
  '202': 'Success, transaction is found',
  '407': 'Success, transaction is found',
};

export async function startMidtransFake(o: { serverKey: string; now?: () => Date }): Promise<MidtransFake> {
  const now = o.now ?? (() => new Date());
  const txs = new Map<string, FakeTransaction>();
  const requests: MidtransFake['requests'] = [];
  const expectedAuth = `Basic ${Buffer.from(`${o.serverKey}:`).toString('base64')}`;

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const server: Server = createServer((req, res) => {
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
        // Snap has no transaction at Midtrans's core until the customer picks a method; the fake keeps
        // it from the start so status() can answer once a control method moved it.
        return send(res, 201, { token, redirect_url: `${fake.url}/snap/v4/redirection/${token}` });
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
        if (!t || t.status_code === '000')
          return send(res, 404, {
            status_code: '404',
            status_message: "Transaction doesn't exist.",
            id: randomUUID(),
          });
        return send(res, 200, notification(t));
      }
      send(res, 404, { status_code: '404', status_message: 'The requested resource is not found' });
    })().catch((err: unknown) =>
      send(res, 500, { status_code: '500', status_message: (err as Error).message }),
    );
  });

  const notification = (t: FakeTransaction): Record<string, unknown> => {
    const body: Record<string, unknown> = {
      transaction_time: t.transaction_time,
      transaction_status: t.transaction_status,
      transaction_id: t.transaction_id,
      status_message:
        t.status_code === '200' || t.status_code === '201'
          ? 'midtrans payment notification'
          : (STATUS_MESSAGES[t.status_code] ?? 'midtrans payment notification'),
      status_code: t.status_code,
      signature_key: midtransSignature(t.order_id, t.status_code, t.gross_amount, o.serverKey),
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
    if (!t) throw new Error(`fake Midtrans: no transaction ${orderId}`);
    Object.assign(t, change);
    return notification(t);
  };

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const fake: MidtransFake = {
    url: `http://127.0.0.1:${port}`,
    snapUrl: `http://127.0.0.1:${port}/snap/v1`,
    requests,
    transactions: () => [...txs.values()],
    settle: (id, so = {}) =>
      move(id, {
        transaction_status: 'settlement',
        status_code: '200',
        payment_type: so.paymentType ?? 'bank_transfer',
        settlement_time: jakartaTime(so.at ?? now()),
        ...(so.paymentType === 'credit_card' ? { fraud_status: 'accept' } : {}),
      }),
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
        status_code: '200',
        payment_type: 'credit_card',
        fraud_status: fraud,
      }),
    refund: (id) => move(id, { transaction_status: 'refund', status_code: '200' }),
    async notify(url, body) {
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
        // keep text
      }
      return { status: res.status, body: parsed };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return fake;
}
