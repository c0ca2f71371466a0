// A Midtrans stand-in on loopback for tests and the demo, reached through midtrans-client itself
// (MidtransGateway with snapBaseUrl = fake.snapBaseUrl, coreBaseUrl = fake.coreBaseUrl):
//
//   POST /snap/v1/transactions        Snap: Basic auth (server key as user), checks like Midtrans's,
//                                     201 {token, redirect_url}
//   GET  /v2/{order_id}/status        Core API status, signed like a notification
//   GET  /snap/v4/redirection/{token} a plain page naming the order (for clicking through the demo)
//
// Control methods play the customer and Midtrans (settle, pend, expire, cancel, deny, capture,
// refund): each moves the transaction and returns the HTTP notification Midtrans would POST for it,
// shaped and signed like Midtrans's documented samples; notify() delivers one.
//
// Like Midtrans, a Snap order has no transaction until the customer picks a payment method: the status
// call answers 404 "Transaction doesn't exist." until a control method has moved it. Notifications use
// status_code 200 (settlement, capture accept, refund), 201 (pending, capture challenge) and 202
// (deny, cancel, expire); the status call answers 407 for an expired transaction, as Midtrans does
// (midtrans-client accepts 407 on purpose). The 401, sum and duplicate-order messages are Midtrans's
// own; the other 400 messages only follow their style. The fake is stricter than Midtrans where that
// catches our mistakes: item names over 50 characters and fractional rupiah are refused.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  jakartaTime,
  midtransSignature,
  type FraudStatus,
  type MidtransTransactionStatus,
} from './midtrans.js';

export type FakePaymentType = 'bank_transfer' | 'qris' | 'gopay' | 'credit_card';

/** A notification (or status answer) body as Midtrans sends it; method details vary by payment type. */
export interface MidtransNotificationBody {
  transaction_time: string;
  transaction_status: MidtransTransactionStatus;
  transaction_id: string;
  status_message: string;
  status_code: string;
  signature_key: string;
  payment_type: FakePaymentType;
  order_id: string;
  merchant_id: string;
  gross_amount: string;
  currency: 'IDR';
  fraud_status?: FraudStatus;
  settlement_time?: string;
  expiry_time?: string;
  [detail: string]: unknown;
}

export interface FakeRefund {
  amountIdr: bigint;
  at: Date;
  refundKey: string;
}

export interface FakeTransaction {
  orderId: string;
  grossAmountIdr: bigint;
  token: string;
  /** The Snap request body as received. */
  snapRequest: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
  /** 'created' until the customer picks a payment method. */
  transactionStatus: MidtransTransactionStatus | 'created';
  transactionId?: string;
  transactionTime?: Date;
  paymentType?: FakePaymentType;
  fraudStatus?: FraudStatus;
  /** The status_code of the last notification. */
  statusCode?: string;
  settledAt?: Date;
  refunds: FakeRefund[];
}

export interface FakeRequest {
  method: string;
  path: string;
  authorized: boolean;
  body?: unknown;
}

export interface MidtransFake {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Snap base for MidtransGateway: `${url}/snap/v1`. */
  snapBaseUrl: string;
  /** Core API base for MidtransGateway: `url`. */
  coreBaseUrl: string;
  transactions(): FakeTransaction[];
  requests(): FakeRequest[];
  pend(orderId: string, o?: { paymentType?: FakePaymentType; at?: Date }): MidtransNotificationBody;
  settle(orderId: string, o?: { paymentType?: FakePaymentType; at?: Date }): MidtransNotificationBody;
  expire(orderId: string): MidtransNotificationBody;
  cancel(orderId: string): MidtransNotificationBody;
  /** The card issuer declines (fraud_status accept, channel response 05). */
  deny(orderId: string): MidtransNotificationBody;
  /** A card payment captured; 'deny' is Midtrans's fraud detection refusing it (transaction_status deny). */
  capture(orderId: string, fraud: FraudStatus): MidtransNotificationBody;
  /** Refunds `amountIdr` (default: all that is left); partial_refund until the whole amount is back. */
  refund(orderId: string, amountIdr?: bigint): MidtransNotificationBody;
  /** POSTs a body (JSON, or a string as is) the way Midtrans delivers notifications. */
  notify(
    url: string,
    body: MidtransNotificationBody | Record<string, unknown> | string,
  ): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const MERCHANT_ID = 'G141532850';
const UNAUTHORIZED_SNAP = [
  'Access denied due to unauthorized transaction, please check client or server key',
  'Visit https://snap-docs.midtrans.com/#request-headers for more details',
];

const rupiah = (v: bigint): string => `${v}.00`;

/** "yyyy-MM-dd HH:mm:ss +0700" (Snap's expiry.start_time) → Date. */
function parseSnapTime(s: unknown): Date | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

type SnapCheck =
  | { ok: true; orderId: string; grossAmountIdr: bigint; minutes: number; start?: Date }
  | { ok: false; message: string };

function checkSnapRequest(body: Record<string, unknown>): SnapCheck {
  const fail = (message: string): SnapCheck => ({ ok: false, message });
  const td = record(body.transaction_details);
  if (!td) return fail('transaction_details is required');
  if (typeof td.order_id !== 'string' || td.order_id === '')
    return fail('transaction_details.order_id is required');
  if (!/^[A-Za-z0-9\-_.~]{1,50}$/.test(td.order_id))
    return fail(
      "transaction_details.order_id may only contain letters, digits, '-', '_', '~' and '.' (max 50)",
    );
  if (td.gross_amount === undefined) return fail('transaction_details.gross_amount is required');
  if (typeof td.gross_amount !== 'number' || !Number.isSafeInteger(td.gross_amount) || td.gross_amount < 1)
    return fail('transaction_details.gross_amount must be a whole number of rupiah, at least 1');
  const gross = BigInt(td.gross_amount);
  if (body.item_details !== undefined) {
    if (!Array.isArray(body.item_details)) return fail('item_details must be an array');
    let sum = 0n;
    for (const [i, raw] of body.item_details.entries()) {
      const item = record(raw);
      if (!item) return fail(`item_details[${i}] must be an object`);
      if (typeof item.price !== 'number' || !Number.isSafeInteger(item.price))
        return fail(`item_details[${i}].price must be a whole number of rupiah`);
      if (typeof item.quantity !== 'number' || !Number.isSafeInteger(item.quantity) || item.quantity < 1)
        return fail(`item_details[${i}].quantity must be at least 1`);
      if (typeof item.name !== 'string' || item.name === '')
        return fail(`item_details[${i}].name is required`);
      if (Array.from(item.name).length > 50)
        return fail(`item_details[${i}].name must not exceed 50 characters`);
      sum += BigInt(item.price) * BigInt(item.quantity);
    }
    if (sum !== gross)
      return fail('transaction_details.gross_amount is not equal to the sum of item_details');
  }
  const expiry = record(body.expiry);
  let minutes = 24 * 60; // Snap's default
  let start: Date | undefined;
  if (expiry) {
    const per = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[String(expiry.unit)];
    if (
      per === undefined ||
      typeof expiry.duration !== 'number' ||
      !Number.isSafeInteger(expiry.duration) ||
      expiry.duration < 1
    )
      return fail('expiry.unit must be minute, hour or day and expiry.duration a whole number');
    minutes = expiry.duration * per;
    if (expiry.start_time !== undefined) {
      start = parseSnapTime(expiry.start_time);
      if (!start) return fail('expiry.start_time must look like yyyy-MM-dd HH:mm:ss +0700');
    }
  }
  return { ok: true, orderId: td.order_id, grossAmountIdr: gross, minutes, ...(start ? { start } : {}) };
}

export async function startMidtransFake(o: {
  serverKey: string;
  host?: '127.0.0.1';
  merchantId?: string;
  /** Clock for transaction times; the real clock by default. */
  now?: () => Date;
}): Promise<MidtransFake> {
  const now = o.now ?? (() => new Date());
  const merchantId = o.merchantId ?? MERCHANT_ID;
  const txs = new Map<string, FakeTransaction>();
  const byToken = new Map<string, FakeTransaction>();
  const requests: FakeRequest[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${o.serverKey}:`).toString('base64')}`;

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size > 1_000_000) throw new Error('request body over 1 MB');
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  /** The body Midtrans sends for the transaction's current state (notification or status answer). */
  const bodyOf = (t: FakeTransaction, kind: 'notification' | 'status'): MidtransNotificationBody => {
    if (
      t.transactionStatus === 'created' ||
      !t.transactionId ||
      !t.transactionTime ||
      !t.paymentType ||
      !t.statusCode
    )
      throw new Error(`fake Midtrans: order ${t.orderId} has no transaction yet`);
    const statusCode = kind === 'status' && t.transactionStatus === 'expire' ? '407' : t.statusCode;
    const gross = rupiah(t.grossAmountIdr);
    const body: MidtransNotificationBody = {
      transaction_time: jakartaTime(t.transactionTime),
      transaction_status: t.transactionStatus,
      transaction_id: t.transactionId,
      status_message: kind === 'status' ? 'Success, transaction is found' : 'midtrans payment notification',
      status_code: statusCode,
      signature_key: midtransSignature(t.orderId, statusCode, gross, o.serverKey),
      payment_type: t.paymentType,
      order_id: t.orderId,
      merchant_id: merchantId,
      gross_amount: gross,
      currency: 'IDR',
    };
    if (t.fraudStatus) body.fraud_status = t.fraudStatus;
    if (t.settledAt) body.settlement_time = jakartaTime(t.settledAt);
    if (t.paymentType !== 'credit_card') body.expiry_time = jakartaTime(t.expiresAt);
    switch (t.paymentType) {
      case 'bank_transfer':
        body.va_numbers = [
          { bank: 'bca', va_number: `41532${t.orderId.replace(/\D/g, '').slice(-6).padStart(6, '0')}` },
        ];
        body.payment_amounts = [];
        break;
      case 'qris':
        body.transaction_type = 'on-us';
        body.issuer = 'gopay';
        body.acquirer = 'gopay';
        break;
      case 'gopay':
        break;
      case 'credit_card':
        body.masked_card = '48111111-1114';
        body.bank = 'bni';
        body.card_type = 'credit';
        body.eci = '05';
        body.three_ds_version = '2';
        if (t.transactionStatus === 'deny' && t.fraudStatus === 'accept') {
          body.channel_response_code = '05';
          body.channel_response_message = 'Do not honour';
        } else {
          body.channel_response_code = '00';
          body.channel_response_message = 'Approved';
          body.approval_code = '1700030939409';
        }
        break;
    }
    if (t.refunds.length) {
      body.refund_amount = rupiah(t.refunds.reduce((a, r) => a + r.amountIdr, 0n));
      body.refunds = t.refunds.map((r, i) => ({
        refund_chargeback_id: i + 1,
        refund_amount: rupiah(r.amountIdr),
        created_at: jakartaTime(r.at),
        reason: 'refund by merchant',
        refund_key: r.refundKey,
        refund_method: 'online',
      }));
    }
    return body;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const authorized = req.headers.authorization === expectedAuth;
      const logged: FakeRequest = { method: req.method ?? '', path, authorized };
      requests.push(logged);

      if (req.method === 'POST' && path === '/snap/v1/transactions') {
        const text = await readBody(req);
        if (!authorized) return send(res, 401, { error_messages: UNAUTHORIZED_SNAP });
        let body: Record<string, unknown> | undefined;
        try {
          body = record(JSON.parse(text));
        } catch {
          body = undefined;
        }
        logged.body = body ?? text;
        if (!body) return send(res, 400, { error_messages: ['request body must be a JSON object'] });
        const check = checkSnapRequest(body);
        if (!check.ok) return send(res, 400, { error_messages: [check.message] });
        if (txs.has(check.orderId))
          return send(res, 400, { error_messages: ['transaction_details.order_id sudah digunakan'] });
        const createdAt = now();
        const t: FakeTransaction = {
          orderId: check.orderId,
          grossAmountIdr: check.grossAmountIdr,
          token: randomUUID(),
          snapRequest: body,
          createdAt,
          expiresAt: new Date((check.start ?? createdAt).getTime() + check.minutes * 60_000),
          transactionStatus: 'created',
          refunds: [],
        };
        txs.set(t.orderId, t);
        byToken.set(t.token, t);
        return send(res, 201, { token: t.token, redirect_url: `${fake.url}/snap/v4/redirection/${t.token}` });
      }

      const status = /^\/v2\/([^/]+)\/status$/.exec(path);
      if (req.method === 'GET' && status?.[1]) {
        if (!authorized)
          return send(res, 401, {
            status_code: '401',
            status_message: 'Transaction cannot be authorized with the current client/server key.',
            id: randomUUID(),
          });
        let orderId: string;
        try {
          orderId = decodeURIComponent(status[1]);
        } catch {
          orderId = status[1];
        }
        const t = txs.get(orderId);
        if (!t || t.transactionStatus === 'created')
          return send(res, 404, {
            status_code: '404',
            status_message: "Transaction doesn't exist.",
            id: randomUUID(),
          });
        return send(res, 200, bodyOf(t, 'status'));
      }

      const page = /^\/snap\/v4\/redirection\/([0-9a-f-]+)$/.exec(path);
      if (req.method === 'GET' && page?.[1]) {
        const t = byToken.get(page[1]);
        if (!t) return send(res, 404, { error_messages: ['token not found'] });
        const html = `<!doctype html><title>Midtrans fake</title><h1>Midtrans fake</h1><p>Order ${t.orderId}: Rp ${t.grossAmountIdr}</p>`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(html);
      }

      send(res, 404, { status_code: '404', status_message: 'The requested resource is not found' });
    })().catch((err: unknown) => {
      if (!res.headersSent)
        send(res, 500, {
          status_code: '500',
          status_message: err instanceof Error ? err.message : 'internal error',
        });
    });
  });

  const find = (orderId: string): FakeTransaction => {
    const t = txs.get(orderId);
    if (!t) throw new Error(`fake Midtrans: no Snap transaction for order ${orderId}`);
    return t;
  };

  /** The customer picked a payment method: from here Midtrans has a transaction for the order. */
  const open = (t: FakeTransaction, paymentType: FakePaymentType | undefined, at: Date): void => {
    if (!t.transactionId) {
      t.transactionId = randomUUID();
      t.transactionTime = at;
    }
    if (paymentType) t.paymentType = paymentType;
    t.paymentType ??= 'bank_transfer';
  };

  const move = (
    t: FakeTransaction,
    status: MidtransTransactionStatus,
    statusCode: string,
    fraud: FraudStatus | undefined,
  ): MidtransNotificationBody => {
    t.transactionStatus = status;
    t.statusCode = statusCode;
    if (fraud) t.fraudStatus = fraud;
    else delete t.fraudStatus;
    return bodyOf(t, 'notification');
  };

  const methodFraud = (t: FakeTransaction): FraudStatus | undefined =>
    t.paymentType === 'credit_card' ? undefined : 'accept';

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, o.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('fake Midtrans: no listening address');
  const url = `http://127.0.0.1:${address.port}`;

  const fake: MidtransFake = {
    url,
    snapBaseUrl: `${url}/snap/v1`,
    coreBaseUrl: url,
    transactions: () => [...txs.values()].map((t) => ({ ...t, refunds: [...t.refunds] })),
    requests: () => [...requests],
    pend(orderId, po = {}) {
      const t = find(orderId);
      open(t, po.paymentType, po.at ?? now());
      return move(t, 'pending', '201', methodFraud(t));
    },
    settle(orderId, so = {}) {
      const t = find(orderId);
      const at = so.at ?? now();
      // The method was picked no later than the payment.
      open(t, so.paymentType, new Date(Math.min(at.getTime(), now().getTime())));
      t.settledAt = at;
      return move(t, 'settlement', '200', 'accept');
    },
    expire(orderId) {
      const t = find(orderId);
      open(t, undefined, now());
      return move(t, 'expire', '202', methodFraud(t));
    },
    cancel(orderId) {
      const t = find(orderId);
      open(t, undefined, now());
      return move(t, 'cancel', '202', t.fraudStatus ?? methodFraud(t));
    },
    deny(orderId) {
      const t = find(orderId);
      open(t, 'credit_card', now());
      return move(t, 'deny', '202', 'accept');
    },
    capture(orderId, fraud) {
      const t = find(orderId);
      open(t, 'credit_card', now());
      if (fraud === 'deny') return move(t, 'deny', '202', 'deny');
      return move(t, 'capture', fraud === 'accept' ? '200' : '201', fraud);
    },
    refund(orderId, amountIdr) {
      const t = find(orderId);
      const paid =
        t.transactionStatus === 'settlement' ||
        t.transactionStatus === 'partial_refund' ||
        (t.transactionStatus === 'capture' && t.fraudStatus === 'accept');
      if (!paid)
        throw new Error(`fake Midtrans: order ${orderId} is ${t.transactionStatus}; only paid orders refund`);
      const left = t.grossAmountIdr - t.refunds.reduce((a, r) => a + r.amountIdr, 0n);
      const amount = amountIdr ?? left;
      if (amount < 1n || amount > left)
        throw new Error(
          `fake Midtrans: refund of ${amount} IDR but ${left} IDR of order ${orderId} is refundable`,
        );
      t.refunds.push({ amountIdr: amount, at: now(), refundKey: randomUUID() });
      return move(t, amount === left ? 'refund' : 'partial_refund', '200', t.fraudStatus);
    },
    async notify(target, body) {
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'Veritrans',
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: the text as is
      }
      return { status: res.status, body: parsed };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}
