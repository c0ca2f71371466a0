import { createHash } from 'node:crypto';
import {
  decideNotification,
  midtransSignature,
  notificationFacts,
  notificationSchema,
  parseGrossAmountIdr,
  snapTransactionBody,
  verifyNotificationSignature,
  type NotificationFacts,
  type PaymentAttemptState,
} from './midtrans.js';

const SERVER_KEY = 'SB-Mid-server-TEST';
/** sha512("ORDER-101" + "200" + "150000.00" + "SB-Mid-server-TEST"), computed once and pinned. */
const ORDER_101_SIGNATURE =
  'd691908b24aa297c06f4e316de300536dd1b5884c7a0d8f06b7086c509299a8d951521185cddeba274cebf4d2cc7e734a0a97232971f99f7e47ac2f9f21a0773';

describe('the notification signature', () => {
  const signed = {
    order_id: 'ORDER-101',
    status_code: '200',
    gross_amount: '150000.00',
    signature_key: ORDER_101_SIGNATURE,
  };

  it('is SHA-512 hex of order_id + status_code + gross_amount + server key', () => {
    const independent = createHash('sha512').update('ORDER-101200150000.00SB-Mid-server-TEST').digest('hex');
    expect(independent).toBe(ORDER_101_SIGNATURE);
    expect(midtransSignature('ORDER-101', '200', '150000.00', SERVER_KEY)).toBe(ORDER_101_SIGNATURE);
  });

  it('verifies a genuine notification, upper-case hex included', () => {
    expect(verifyNotificationSignature(signed, SERVER_KEY)).toBe(true);
    expect(
      verifyNotificationSignature(
        { ...signed, signature_key: ORDER_101_SIGNATURE.toUpperCase() },
        SERVER_KEY,
      ),
    ).toBe(true);
  });

  it.each([
    ['another amount', { ...signed, gross_amount: '1500000.00' }],
    ['the same amount written differently', { ...signed, gross_amount: '150000' }],
    ['another status code', { ...signed, status_code: '201' }],
    ['another order', { ...signed, order_id: 'ORDER-102' }],
    ['a truncated signature', { ...signed, signature_key: ORDER_101_SIGNATURE.slice(0, 127) }],
    ['a signature that is not hex', { ...signed, signature_key: 'z'.repeat(128) }],
    ['an empty signature', { ...signed, signature_key: '' }],
  ])('refuses %s', (_name, n) => {
    expect(verifyNotificationSignature(n, SERVER_KEY)).toBe(false);
  });

  it('refuses a notification signed with another server key', () => {
    expect(verifyNotificationSignature(signed, 'SB-Mid-server-OTHER')).toBe(false);
  });
});

/** A BCA virtual account settlement, as in Midtrans's notification samples. */
const bcaSettlement = {
  va_numbers: [{ va_number: '41532000101', bank: 'bca' }],
  transaction_time: '2026-03-01 10:15:00',
  transaction_status: 'settlement',
  transaction_id: '513f1f01-c9da-474c-9fc9-d5c64364b709',
  status_message: 'midtrans payment notification',
  status_code: '200',
  signature_key: ORDER_101_SIGNATURE,
  settlement_time: '2026-03-01 10:20:00',
  payment_type: 'bank_transfer',
  payment_amounts: [],
  order_id: 'ORDER-101',
  merchant_id: 'G141532850',
  gross_amount: '150000.00',
  fraud_status: 'accept',
  expiry_time: '2026-03-02 10:15:00',
  currency: 'IDR',
};

describe('the notification body', () => {
  it('accepts a documented settlement and keeps method details for the raw log', () => {
    const n = notificationSchema.parse(bcaSettlement);
    expect(n.va_numbers).toEqual([{ va_number: '41532000101', bank: 'bca' }]);
    expect(notificationFacts(n)).toEqual({
      orderId: 'ORDER-101',
      transactionStatus: 'settlement',
      fraudStatus: 'accept',
      grossAmountIdr: 150000n,
      statusCode: '200',
    });
  });

  it.each([
    ['a missing order_id', { order_id: undefined }, 'order_id', 'required'],
    [
      'an unknown transaction_status',
      { transaction_status: 'paid' },
      'transaction_status',
      'expected one of',
    ],
    ['a fractional gross_amount', { gross_amount: '150000.50' }, 'gross_amount', 'fraction'],
    ['a gross_amount that is a number', { gross_amount: 150000 }, 'gross_amount', 'expected'],
    ['a two-digit status_code', { status_code: '20' }, 'status_code', 'three-digit'],
    ['a short signature_key', { signature_key: 'abc' }, 'signature_key', 'SHA-512'],
    ['an unknown fraud_status', { fraud_status: 'maybe' }, 'fraud_status', 'accept, challenge or deny'],
    ['another currency', { currency: 'USD' }, 'currency', 'IDR'],
  ])('names the field of %s', (_name, change, field, message) => {
    const r = notificationSchema.safeParse({ ...bcaSettlement, ...change });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual([field]);
    expect(r.error?.issues[0]?.message).toContain(message);
  });
});

describe('gross_amount in rupiah', () => {
  it.each([
    ['150000.00', 150000n],
    ['150000', 150000n],
    ['150000.0', 150000n],
    ['0.00', 0n],
    ['999999999999999.00', 999999999999999n],
  ])('reads %s as %s', (s, v) => {
    expect(parseGrossAmountIdr(s)).toBe(v);
  });

  it.each([
    ['150000.50', /fraction of a rupiah/],
    ['150000.01', /fraction of a rupiah/],
    ['-150000.00', /negative/],
    ['1e5', /not an amount/],
    ['150.000,00', /not an amount/],
    ['', /not an amount/],
    [' 150000', /not an amount/],
    ['0150000', /not an amount/],
    ['150000.000', /not an amount/],
    ['1234567890123456.00', /not an amount/],
  ])('refuses %j', (s, message) => {
    expect(() => parseGrossAmountIdr(s)).toThrow(message);
  });
});

describe('the notification state machine', () => {
  const ORDER = 'INV-2026-000101-a1';
  const due: PaymentAttemptState = {
    attemptStatus: 'pending',
    invoiceStatus: 'unpaid',
    invoiceAmountIdr: 150000n,
    invoicePaidByOrderId: null,
  };
  const paidByThisOrder: PaymentAttemptState = {
    ...due,
    attemptStatus: 'paid',
    invoiceStatus: 'paid',
    invoicePaidByOrderId: ORDER,
  };
  /** The status_code Midtrans sends with each status; deny, cancel and expire come with 202. */
  const STATUS_CODES: Partial<Record<NotificationFacts['transactionStatus'], string>> = {
    settlement: '200',
    capture: '200',
    refund: '200',
    partial_refund: '200',
    chargeback: '200',
    pending: '201',
  };
  const says = (
    transactionStatus: NotificationFacts['transactionStatus'],
    more: Partial<NotificationFacts> = {},
  ) => ({
    orderId: ORDER,
    transactionStatus,
    grossAmountIdr: 150000n,
    statusCode: STATUS_CODES[transactionStatus] ?? '202',
    ...more,
  });
  const settlement = says('settlement', { fraudStatus: 'accept' });

  it.each<[string, PaymentAttemptState, NotificationFacts, string, string, string]>([
    // paying
    ['settlement pays the invoice', due, settlement, 'paid', 'pay_invoice', 'paid'],
    [
      'settlement pays an overdue invoice',
      { ...due, invoiceStatus: 'overdue' },
      settlement,
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'settlement pays before any pending arrived',
      { ...due, attemptStatus: 'created' },
      settlement,
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'capture with fraud accept pays',
      due,
      says('capture', { fraudStatus: 'accept' }),
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'an accepted challenge pays',
      { ...due, attemptStatus: 'challenge' },
      says('capture', { fraudStatus: 'accept' }),
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'settlement after expiry still pays',
      { ...due, attemptStatus: 'expired' },
      settlement,
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'settlement after cancel still pays',
      { ...due, attemptStatus: 'cancelled' },
      settlement,
      'paid',
      'pay_invoice',
      'paid',
    ],
    // duplicates and repairs
    ['the same settlement twice is a duplicate', paidByThisOrder, settlement, 'paid', 'none', 'duplicate'],
    [
      'capture accept after settlement is a duplicate',
      paidByThisOrder,
      says('capture', { fraudStatus: 'accept' }),
      'paid',
      'none',
      'duplicate',
    ],
    [
      'an invoice already paid by this order is not paid again',
      { ...paidByThisOrder, attemptStatus: 'pending' },
      settlement,
      'paid',
      'none',
      'duplicate',
    ],
    ['pending twice is a duplicate', due, says('pending'), 'pending', 'none', 'duplicate'],
    [
      'expire twice is a duplicate',
      { ...due, attemptStatus: 'expired' },
      says('expire'),
      'expired',
      'none',
      'duplicate',
    ],
    // fraud
    [
      'capture with challenge waits for staff',
      due,
      says('capture', { fraudStatus: 'challenge', statusCode: '201' }),
      'challenge',
      'none',
      'challenge',
    ],
    [
      'capture without fraud_status waits like a challenge',
      due,
      says('capture'),
      'challenge',
      'none',
      'challenge',
    ],
    [
      'capture with fraud deny fails',
      due,
      says('capture', { fraudStatus: 'deny' }),
      'failed',
      'none',
      'denied',
    ],
    ['deny fails', due, says('deny', { fraudStatus: 'deny' }), 'failed', 'none', 'denied'],
    [
      'a denied challenge fails',
      { ...due, attemptStatus: 'challenge' },
      says('deny', { fraudStatus: 'deny' }),
      'failed',
      'none',
      'denied',
    ],
    ['failure fails', due, says('failure'), 'failed', 'none', 'failed'],
    // other stages
    [
      'pending after created waits',
      { ...due, attemptStatus: 'created' },
      says('pending'),
      'pending',
      'none',
      'pending',
    ],
    ['expire expires', due, says('expire'), 'expired', 'none', 'expired'],
    ['cancel cancels', due, says('cancel'), 'cancelled', 'none', 'cancelled'],
    // out of order
    [
      'a pending after expiry is stale',
      { ...due, attemptStatus: 'expired' },
      says('pending'),
      'expired',
      'none',
      'stale',
    ],
    [
      'a pending after a challenge is stale',
      { ...due, attemptStatus: 'challenge' },
      says('pending'),
      'challenge',
      'none',
      'stale',
    ],
    ['a late expire does not unpay a paid order', paidByThisOrder, says('expire'), 'paid', 'none', 'stale'],
    ['a late pending does not unpay a paid order', paidByThisOrder, says('pending'), 'paid', 'none', 'stale'],
    [
      'a cancel after paying is flagged, the invoice stays paid',
      paidByThisOrder,
      says('cancel'),
      'paid',
      'flag_review',
      'cancelled_after_paid',
    ],
    [
      'a settlement after a refund pays nothing',
      { ...due, attemptStatus: 'refunded' },
      settlement,
      'refunded',
      'none',
      'stale',
    ],
    // amounts and invoices
    [
      'a smaller amount pays nothing',
      due,
      { ...settlement, grossAmountIdr: 15000n },
      'paid',
      'flag_review',
      'amount_mismatch',
    ],
    [
      'a larger amount pays nothing',
      due,
      { ...settlement, grossAmountIdr: 1500000n },
      'paid',
      'flag_review',
      'amount_mismatch',
    ],
    [
      'a settlement with status_code 201 pays nothing',
      due,
      { ...settlement, statusCode: '201' },
      'pending',
      'flag_review',
      'unexpected_status_code',
    ],
    [
      'a second order paying a paid invoice is flagged for refund, not applied',
      { ...due, invoiceStatus: 'paid', invoicePaidByOrderId: 'INV-2026-000101-b2' },
      settlement,
      'paid',
      'flag_overpaid',
      'late_payment_on_paid_invoice',
    ],
    [
      'an order paying an invoice paid in cash is flagged for refund',
      { ...due, invoiceStatus: 'paid', invoicePaidByOrderId: null },
      settlement,
      'paid',
      'flag_overpaid',
      'late_payment_on_paid_invoice',
    ],
    [
      'a payment for a cancelled invoice is flagged for refund',
      { ...due, invoiceStatus: 'cancelled' },
      settlement,
      'paid',
      'flag_overpaid',
      'paid_cancelled_invoice',
    ],
    // refunds
    [
      'a full refund of the paying order makes the invoice due again',
      paidByThisOrder,
      says('refund'),
      'refunded',
      'refund_invoice',
      'refunded',
    ],
    [
      'a chargeback of the paying order makes the invoice due again',
      paidByThisOrder,
      says('chargeback'),
      'refunded',
      'refund_invoice',
      'refunded',
    ],
    [
      'the same refund twice is a duplicate',
      { ...paidByThisOrder, attemptStatus: 'refunded', invoiceStatus: 'unpaid', invoicePaidByOrderId: null },
      says('refund'),
      'refunded',
      'none',
      'duplicate',
    ],
    [
      'a partial refund leaves the invoice paid and is flagged',
      paidByThisOrder,
      says('partial_refund'),
      'refunded',
      'flag_review',
      'partially_refunded',
    ],
    [
      'a full refund after a partial one makes the invoice due again',
      { ...paidByThisOrder, attemptStatus: 'refunded' },
      says('refund'),
      'refunded',
      'refund_invoice',
      'refunded',
    ],
    [
      'the same partial refund twice is a duplicate',
      { ...paidByThisOrder, attemptStatus: 'refunded' },
      says('partial_refund'),
      'refunded',
      'none',
      'duplicate',
    ],
    [
      'refunding a late payment leaves the invoice paid by the other order',
      { ...due, attemptStatus: 'paid', invoiceStatus: 'paid', invoicePaidByOrderId: 'INV-2026-000101-b2' },
      says('refund'),
      'refunded',
      'none',
      'refunded',
    ],
    [
      'a refund of a settlement never applied changes no invoice',
      due,
      says('refund'),
      'refunded',
      'none',
      'refunded',
    ],
  ])('%s', (_name, state, facts, attempt, action, outcome) => {
    expect(decideNotification(state, facts)).toMatchObject({ attemptStatus: attempt, action, outcome });
  });

  it('never pays an invoice twice, whatever the order of redeliveries', () => {
    // A plausible Midtrans history, each notification delivered twice, replayed against the state it produced.
    const history: NotificationFacts[] = [
      says('pending'),
      settlement,
      says('pending'),
      says('expire'),
      settlement,
      says('capture', { fraudStatus: 'accept' }),
    ];
    let state: PaymentAttemptState = { ...due, attemptStatus: 'created' };
    let pays = 0;
    for (const n of history.flatMap((n) => [n, n])) {
      const d = decideNotification(state, n);
      if (d.action === 'pay_invoice') {
        pays += 1;
        state = { ...state, invoiceStatus: 'paid', invoicePaidByOrderId: n.orderId };
      }
      state = { ...state, attemptStatus: d.attemptStatus };
    }
    expect(pays).toBe(1);
    expect(state.attemptStatus).toBe('paid');
  });

  it('says why a late payment needs a refund', () => {
    const d = decideNotification(
      { ...due, invoiceStatus: 'paid', invoicePaidByOrderId: 'INV-2026-000101-b2' },
      settlement,
    );
    expect(d.reason).toBe(
      `invoice already paid by order INV-2026-000101-b2; refund 150000 IDR of order ${ORDER}`,
    );
  });
});

describe('the Snap request', () => {
  const request = {
    orderId: 'INV-2026-000101-a1',
    grossAmountIdr: 150000n,
    items: [
      {
        id: 'plan-20m',
        name: 'Internet 20 Mbps — Maret 2026, pelanggan rumah tangga wilayah Sleman',
        priceIdr: 160000n,
        quantity: 1,
      },
      { id: 'sla-credit', name: 'Kredit SLA Februari', priceIdr: -10000n, quantity: 1 },
    ],
    customer: { firstName: 'Budi', lastName: 'Santoso', email: 'budi@example.id', phone: '+6281234567890' },
    expiryMinutes: 1440,
    startTime: new Date('2026-03-01T03:00:00Z'),
    finishUrl: 'https://billing.example.id/bayar/selesai',
  };

  it('sends whole rupiah, 50-character item names and a WIB expiry', () => {
    const body = snapTransactionBody(request);
    expect(body).toMatchObject({
      transaction_details: { order_id: 'INV-2026-000101-a1', gross_amount: 150000 },
      item_details: [
        {
          id: 'plan-20m',
          name: 'Internet 20 Mbps — Maret 2026, pelanggan rumah tan',
          price: 160000,
          quantity: 1,
        },
        { id: 'sla-credit', name: 'Kredit SLA Februari', price: -10000, quantity: 1 },
      ],
      customer_details: {
        first_name: 'Budi',
        last_name: 'Santoso',
        email: 'budi@example.id',
        phone: '+6281234567890',
      },
      expiry: { start_time: '2026-03-01 10:00:00 +0700', unit: 'minute', duration: 1440 },
      callbacks: { finish: 'https://billing.example.id/bayar/selesai' },
    });
  });

  it.each([
    [
      'items that do not add up',
      { items: [{ id: 'x', name: 'x', priceIdr: 140000n, quantity: 1 }] },
      /item_details: items add up to 140000 IDR but transaction_details.gross_amount is 150000 IDR/,
    ],
    ['an order id with a slash', { orderId: 'INV/2026/1' }, /transaction_details.order_id/],
    ['a zero amount', { grossAmountIdr: 0n, items: [] }, /gross_amount: must be positive/],
    ['no items', { items: [] }, /item_details: at least one item/],
    [
      'a fractional quantity',
      { items: [{ id: 'x', name: 'x', priceIdr: 100000n, quantity: 1.5 }] },
      /item_details\[0\].quantity/,
    ],
    ['no expiry', { expiryMinutes: 0 }, /expiry.duration/],
  ])('refuses %s before calling Midtrans', (_name, change, message) => {
    expect(() => snapTransactionBody({ ...request, ...change })).toThrow(message);
  });
});
