import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { inspect } from 'node:util';
import {
  MidtransApiError,
  MidtransGateway,
  MidtransRequestError,
  decideNotification,
  notificationFacts,
  notificationSchema,
  verifyNotificationSignature,
  type PaymentAttemptState,
  type SnapTransactionRequest,
} from './midtrans.js';
import { startMidtransFake, type MidtransFake } from './midtrans-fake.js';

const SERVER_KEY = 'SB-Mid-server-fake-3kq9ZpV1';
const WRONG_KEY = 'SB-Mid-server-wrong-7Hx2LmQ4';

let fake: MidtransFake;
const gatewayWith = (serverKey: string, o: { timeoutMs?: number } = {}) =>
  new MidtransGateway({
    serverKey,
    isProduction: false,
    snapBaseUrl: fake.snapBaseUrl,
    coreBaseUrl: fake.coreBaseUrl,
    ...o,
  });

let orders = 0;
/** A March invoice of Rp 150.000 in two lines, under a fresh order id. */
const invoiceOrder = (): SnapTransactionRequest => ({
  orderId: `INV-2026-000101-${++orders}`,
  grossAmountIdr: 150000n,
  items: [
    {
      id: 'plan-20m',
      name: 'Internet 20 Mbps Maret 2026 — paket rumah tangga untuk wilayah Sleman',
      priceIdr: 140000n,
      quantity: 1,
    },
    { id: 'ip-public', name: 'IP publik', priceIdr: 5000n, quantity: 2 },
  ],
  customer: { firstName: 'Siti', lastName: 'Rahayu', email: 'siti@example.id', phone: '+6281298765432' },
  expiryMinutes: 60,
  startTime: new Date('2026-03-01T03:00:00Z'),
});

/** Expects a MidtransApiError and checks that nothing on it carries the server key. */
async function refusal(p: Promise<unknown>): Promise<MidtransApiError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MidtransApiError);
  const dump = `${String(err)} ${JSON.stringify(err)} ${inspect(err, { depth: 10, showHidden: true })}`;
  expect(dump).not.toContain(SERVER_KEY);
  expect(dump).not.toContain(WRONG_KEY);
  expect(dump).not.toContain(Buffer.from(`${WRONG_KEY}:`).toString('base64'));
  return err as MidtransApiError;
}

beforeAll(async () => {
  fake = await startMidtransFake({ serverKey: SERVER_KEY, now: () => new Date('2026-03-01T03:00:05Z') });
});
afterAll(() => fake.close());

describe('MidtransGateway against the loopback fake', () => {
  it('creates a Snap transaction and returns its token and redirect URL', async () => {
    const order = invoiceOrder();
    const snap = await gatewayWith(SERVER_KEY).createSnapTransaction(order);
    expect(snap.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(snap.redirectUrl).toBe(`${fake.url}/snap/v4/redirection/${snap.token}`);
    const sent = fake.requests().find((r) => r.path === '/snap/v1/transactions' && r.authorized)?.body;
    expect(sent).toMatchObject({
      transaction_details: { order_id: order.orderId, gross_amount: 150000 },
      item_details: [
        {
          id: 'plan-20m',
          name: 'Internet 20 Mbps Maret 2026 — paket rumah tangga u',
          price: 140000,
          quantity: 1,
        },
        { id: 'ip-public', name: 'IP publik', price: 5000, quantity: 2 },
      ],
      expiry: { start_time: '2026-03-01 10:00:00 +0700', unit: 'minute', duration: 60 },
    });
    const page = await fetch(snap.redirectUrl);
    expect(await page.text()).toContain(order.orderId);
  });

  it('reports a wrong server key as Midtrans does, without the key', async () => {
    const err = await refusal(gatewayWith(WRONG_KEY).createSnapTransaction(invoiceOrder()));
    expect(err.httpStatusCode).toBe(401);
    expect(err.message).toMatch(
      /^Midtrans Snap transaction INV-2026-000101-\d+ failed: HTTP 401: Access denied due to unauthorized transaction, please check client or server key/,
    );
    expect(err.midtransMessages[0]).toBe(
      'Access denied due to unauthorized transaction, please check client or server key',
    );
  });

  it('refuses items that do not add up to the gross amount before calling Midtrans', async () => {
    const before = fake.requests().length;
    const order = { ...invoiceOrder(), grossAmountIdr: 160000n };
    await expect(gatewayWith(SERVER_KEY).createSnapTransaction(order)).rejects.toThrow(MidtransRequestError);
    await expect(gatewayWith(SERVER_KEY).createSnapTransaction(order)).rejects.toThrow(
      'item_details: items add up to 150000 IDR but transaction_details.gross_amount is 160000 IDR',
    );
    expect(fake.requests()).toHaveLength(before);
  });

  it('answers a second transaction with the same order id as Midtrans does', async () => {
    const gateway = gatewayWith(SERVER_KEY);
    const order = invoiceOrder();
    await gateway.createSnapTransaction(order);
    const err = await refusal(gateway.createSnapTransaction(order));
    expect(err.httpStatusCode).toBe(400);
    expect(err.midtransMessages).toEqual(['transaction_details.order_id sudah digunakan']);
  });

  it('lets Midtrans itself refuse a sum that does not match (the fake checks like Midtrans)', async () => {
    const res = await fetch(`${fake.snapBaseUrl}/transactions`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SERVER_KEY}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        transaction_details: { order_id: 'INV-2026-000101-raw', gross_amount: 150000 },
        item_details: [{ id: 'x', name: 'x', price: 140000, quantity: 1 }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error_messages: ['transaction_details.gross_amount is not equal to the sum of item_details'],
    });
  });

  it('shows a settled transaction with a valid signature, and its notification verifies', async () => {
    const gateway = gatewayWith(SERVER_KEY);
    const order = invoiceOrder();
    await gateway.createSnapTransaction(order);
    const notification = fake.settle(order.orderId, {
      paymentType: 'bank_transfer',
      at: new Date('2026-03-01T03:20:00Z'),
    });
    expect(notification).toMatchObject({
      transaction_time: '2026-03-01 10:00:05',
      transaction_status: 'settlement',
      status_message: 'midtrans payment notification',
      status_code: '200',
      payment_type: 'bank_transfer',
      order_id: order.orderId,
      gross_amount: '150000.00',
      currency: 'IDR',
      fraud_status: 'accept',
      settlement_time: '2026-03-01 10:20:00',
      expiry_time: '2026-03-01 11:00:00',
      va_numbers: [{ bank: 'bca', va_number: expect.stringMatching(/^\d{11}$/) }],
    });
    expect(notificationSchema.safeParse(notification).success).toBe(true);
    expect(verifyNotificationSignature(notification, SERVER_KEY)).toBe(true);
    expect(verifyNotificationSignature({ ...notification, gross_amount: '15000.00' }, SERVER_KEY)).toBe(
      false,
    );

    const status = await gateway.status(order.orderId);
    expect(status).toMatchObject({
      transaction_status: 'settlement',
      status_code: '200',
      status_message: 'Success, transaction is found',
      transaction_id: notification.transaction_id,
      gross_amount: '150000.00',
    });
    expect(verifyNotificationSignature(status, SERVER_KEY)).toBe(true);
  });

  it('signs an expired transaction with status_code 202 in the notification and 407 in the status answer', async () => {
    const gateway = gatewayWith(SERVER_KEY);
    const order = invoiceOrder();
    await gateway.createSnapTransaction(order);
    fake.pend(order.orderId, { paymentType: 'qris' });
    const notification = fake.expire(order.orderId);
    expect(notification).toMatchObject({
      transaction_status: 'expire',
      status_code: '202',
      acquirer: 'gopay',
    });
    expect(verifyNotificationSignature(notification, SERVER_KEY)).toBe(true);
    const status = await gateway.status(order.orderId);
    expect(status).toMatchObject({ transaction_status: 'expire', status_code: '407' });
    expect(verifyNotificationSignature(status, SERVER_KEY)).toBe(true);
  });

  it('plays card captures, fraud decisions and refunds with Midtrans status codes', async () => {
    const gateway = gatewayWith(SERVER_KEY);
    const order = invoiceOrder();
    await gateway.createSnapTransaction(order);
    expect(fake.capture(order.orderId, 'challenge')).toMatchObject({
      transaction_status: 'capture',
      fraud_status: 'challenge',
      status_code: '201',
      payment_type: 'credit_card',
      masked_card: '48111111-1114',
    });
    expect(fake.capture(order.orderId, 'accept')).toMatchObject({
      status_code: '200',
      fraud_status: 'accept',
    });
    const partial = fake.refund(order.orderId, 50000n);
    expect(partial).toMatchObject({
      transaction_status: 'partial_refund',
      status_code: '200',
      gross_amount: '150000.00',
      refund_amount: '50000.00',
    });
    const full = fake.refund(order.orderId);
    expect(full).toMatchObject({ transaction_status: 'refund', refund_amount: '150000.00' });
    expect(full.refunds).toHaveLength(2);
    expect(verifyNotificationSignature(full, SERVER_KEY)).toBe(true);
    expect(() => fake.refund(order.orderId, 1n)).toThrow(/is refund; only paid orders refund/);

    const denied = invoiceOrder();
    await gateway.createSnapTransaction(denied);
    expect(fake.capture(denied.orderId, 'deny')).toMatchObject({
      transaction_status: 'deny',
      fraud_status: 'deny',
      status_code: '202',
    });
  });

  it("drives the state machine with the fake's notifications: pending, then one payment", async () => {
    const order = invoiceOrder();
    await gatewayWith(SERVER_KEY).createSnapTransaction(order);
    let state: PaymentAttemptState = {
      attemptStatus: 'created',
      invoiceStatus: 'unpaid',
      invoiceAmountIdr: order.grossAmountIdr,
      invoicePaidByOrderId: null,
    };
    const pending = notificationSchema.parse(fake.pend(order.orderId));
    const settlement = notificationSchema.parse(fake.settle(order.orderId));
    const outcomes = [pending, settlement, settlement].map((n) => {
      const d = decideNotification(state, notificationFacts(n));
      state = { ...state, attemptStatus: d.attemptStatus };
      if (d.action === 'pay_invoice')
        state = { ...state, invoiceStatus: 'paid', invoicePaidByOrderId: n.order_id };
      return `${d.outcome}/${d.action}`;
    });
    expect(outcomes).toEqual(['pending/none', 'paid/pay_invoice', 'duplicate/none']);
  });

  it('sends only notifications that parse and verify, whatever the method and status', async () => {
    const gateway = gatewayWith(SERVER_KEY);
    const bodies = [];
    for (const paymentType of ['bank_transfer', 'qris', 'gopay', 'credit_card'] as const) {
      const order = invoiceOrder();
      await gateway.createSnapTransaction(order);
      bodies.push(
        fake.pend(order.orderId, { paymentType }),
        fake.settle(order.orderId),
        fake.refund(order.orderId, 1000n),
      );
      const other = invoiceOrder();
      await gateway.createSnapTransaction(other);
      bodies.push(
        fake.pend(other.orderId, { paymentType }),
        fake.cancel(other.orderId),
        fake.expire(other.orderId),
      );
    }
    const denied = invoiceOrder();
    await gateway.createSnapTransaction(denied);
    bodies.push(fake.deny(denied.orderId));
    for (const body of bodies) {
      const parsed = notificationSchema.safeParse(body);
      expect(parsed.error?.issues).toBeUndefined();
      expect(verifyNotificationSignature(body, SERVER_KEY)).toBe(true);
    }
    expect(new Set(bodies.map((b) => `${b.transaction_status}:${b.status_code}`))).toEqual(
      new Set([
        'pending:201',
        'settlement:200',
        'partial_refund:200',
        'cancel:202',
        'expire:202',
        'deny:202',
      ]),
    );
  });

  it('answers 404 for an unknown order and for a Snap order with no payment method chosen yet', async () => {
    const gateway = gatewayWith(SERVER_KEY);
    const unknown = await refusal(gateway.status('INV-2026-999999-zz'));
    expect(unknown.httpStatusCode).toBe(404);
    expect(unknown.message).toBe(
      "Midtrans status of INV-2026-999999-zz failed: HTTP 404: Transaction doesn't exist.",
    );

    const order = invoiceOrder();
    await gateway.createSnapTransaction(order);
    expect((await refusal(gateway.status(order.orderId))).httpStatusCode).toBe(404);
    fake.pend(order.orderId);
    expect(await gateway.status(order.orderId)).toMatchObject({
      transaction_status: 'pending',
      status_code: '201',
    });
  });

  it('refuses a status call with a wrong server key', async () => {
    const order = invoiceOrder();
    await gatewayWith(SERVER_KEY).createSnapTransaction(order);
    fake.pend(order.orderId);
    const err = await refusal(gatewayWith(WRONG_KEY).status(order.orderId));
    expect(err.httpStatusCode).toBe(401);
  });

  it('delivers a notification as Midtrans does: a JSON POST from Veritrans', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"ok"}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    try {
      const address = receiver.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const order = invoiceOrder();
      await gatewayWith(SERVER_KEY).createSnapTransaction(order);
      const n = fake.settle(order.orderId, { paymentType: 'gopay' });
      const answer = await fake.notify(`http://127.0.0.1:${port}/payments/midtrans/notification`, n);
      expect(answer).toEqual({ status: 200, body: { status: 'ok' } });
      expect(received[0]?.headers['content-type']).toBe('application/json');
      expect(received[0]?.headers['user-agent']).toBe('Veritrans');
      expect(JSON.parse(received[0]?.body ?? '')).toEqual(n);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});

describe('MidtransGateway when Midtrans does not answer', () => {
  it('says that no answer came when nothing listens', async () => {
    const gateway = new MidtransGateway({
      serverKey: SERVER_KEY,
      isProduction: false,
      snapBaseUrl: 'http://127.0.0.1:9/snap/v1',
      coreBaseUrl: 'http://127.0.0.1:9',
    });
    const err = await refusal(gateway.createSnapTransaction(invoiceOrder()));
    expect(err.httpStatusCode).toBeUndefined();
    expect(err.message).toMatch(/failed: no answer from Midtrans \(ECONNREFUSED\)$/);
  });

  it('gives up after timeoutMs', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const address = silent.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const gateway = new MidtransGateway({
        serverKey: SERVER_KEY,
        isProduction: false,
        coreBaseUrl: `http://127.0.0.1:${port}`,
        timeoutMs: 200,
      });
      const started = Date.now();
      const err = await refusal(gateway.status('INV-2026-000101-1'));
      expect(err.message).toMatch(/no answer from Midtrans \(ECONNABORTED\)/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
