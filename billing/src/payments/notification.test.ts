import { createHash } from 'node:crypto';
import {
  decideNotification,
  expectedStatusCodes,
  midtransSignature,
  notificationSchema,
  nulPath,
  statusCodeDisagreement,
  parseGrossAmountIdr,
  verifyNotificationSignature,
  type AttemptState,
} from './notification.js';

const due: AttemptState = {
  attemptStatus: 'pending',
  invoiceStatus: 'unpaid',
  invoiceAmountIdr: 150000n,
  invoicePaidByOrderId: null,
};
const settle = {
  orderId: 'INV-2026-000001-a1',
  transactionStatus: 'settlement' as const,
  grossAmountIdr: 150000n,
};

describe('Midtrans signature', () => {
  it('is SHA-512 of order_id + status_code + gross_amount + server key, as Midtrans documents', () => {
    const expected = createHash('sha512').update('ORDER-101200150000.00SB-Mid-server-TEST').digest('hex');
    expect(midtransSignature('ORDER-101', '200', '150000.00', 'SB-Mid-server-TEST')).toBe(expected);
    const n = {
      order_id: 'ORDER-101',
      status_code: '200',
      gross_amount: '150000.00',
      signature_key: expected,
    };
    expect(verifyNotificationSignature(n, 'SB-Mid-server-TEST')).toBe(true);
    expect(verifyNotificationSignature({ ...n, gross_amount: '1500000.00' }, 'SB-Mid-server-TEST')).toBe(
      false,
    );
    expect(verifyNotificationSignature(n, 'SB-Mid-server-OTHER')).toBe(false);
    expect(verifyNotificationSignature({ ...n, signature_key: 'abc' }, 'SB-Mid-server-TEST')).toBe(false);
  });

  it('names the field a malformed notification lacks', () => {
    const r = notificationSchema.safeParse({ order_id: 'x', transaction_status: 'settlement' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['transaction_id']);
  });
});

describe('gross_amount', () => {
  it('reads whole rupiah and refuses fractions and garbage', () => {
    expect(parseGrossAmountIdr('150000.00')).toBe(150000n);
    expect(parseGrossAmountIdr('150000')).toBe(150000n);
    expect(parseGrossAmountIdr('999999999999999.00')).toBe(999999999999999n);
    expect(() => parseGrossAmountIdr('150000.50')).toThrow(/fraction/);
    expect(() => parseGrossAmountIdr('-1.00')).toThrow(/not an amount/);
    expect(() => parseGrossAmountIdr('1e5')).toThrow(/not an amount/);
  });
});

describe('the notification state machine', () => {
  it.each([
    ['settlement pays', due, settle, 'paid', 'pay_invoice', 'paid'],
    [
      'capture accepted pays',
      due,
      { ...settle, transactionStatus: 'capture' as const, fraudStatus: 'accept' as const },
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'capture challenged waits',
      due,
      { ...settle, transactionStatus: 'capture' as const, fraudStatus: 'challenge' as const },
      'challenge',
      'none',
      'challenge',
    ],
    [
      'capture denied fails',
      due,
      { ...settle, transactionStatus: 'capture' as const, fraudStatus: 'deny' as const },
      'failed',
      'none',
      'failed',
    ],
    ['deny fails', due, { ...settle, transactionStatus: 'deny' as const }, 'failed', 'none', 'failed'],
    [
      'expire expires',
      due,
      { ...settle, transactionStatus: 'expire' as const },
      'expired',
      'none',
      'expired',
    ],
    [
      'cancel cancels',
      due,
      { ...settle, transactionStatus: 'cancel' as const },
      'cancelled',
      'none',
      'cancelled',
    ],
    [
      'pending again is a duplicate',
      due,
      { ...settle, transactionStatus: 'pending' as const },
      'pending',
      'none',
      'duplicate',
    ],
    [
      'settlement twice is a duplicate',
      {
        ...due,
        attemptStatus: 'paid' as const,
        invoiceStatus: 'paid' as const,
        invoicePaidByOrderId: settle.orderId,
      },
      settle,
      'paid',
      'none',
      'duplicate',
    ],
    [
      'a wrong amount pays nothing',
      due,
      { ...settle, grossAmountIdr: 15000n },
      'pending',
      'none',
      'amount_mismatch',
    ],
    [
      'settlement after expiry still pays',
      { ...due, attemptStatus: 'expired' as const },
      settle,
      'paid',
      'pay_invoice',
      'paid',
    ],
    [
      'a second order paying a paid invoice is flagged, not applied',
      { ...due, invoiceStatus: 'paid' as const, invoicePaidByOrderId: 'INV-2026-000001-b2' },
      settle,
      'paid',
      'flag_overpaid',
      'late_payment_on_paid_invoice',
    ],
    [
      'a payment for a cancelled invoice is flagged',
      { ...due, invoiceStatus: 'cancelled' as const },
      settle,
      'paid',
      'flag_overpaid',
      'paid_cancelled_invoice',
    ],
    [
      'a late expire does not unpay a paid order',
      { ...due, attemptStatus: 'paid' as const, invoiceStatus: 'paid' as const },
      { ...settle, transactionStatus: 'expire' as const },
      'paid',
      'none',
      'duplicate',
    ],
    [
      'a refund is flagged for staff',
      { ...due, attemptStatus: 'paid' as const, invoiceStatus: 'paid' as const },
      { ...settle, transactionStatus: 'refund' as const },
      'refunded',
      'flag_refund',
      'refunded',
    ],
    [
      'settlement after a refund pays nothing',
      { ...due, attemptStatus: 'refunded' as const, invoiceStatus: 'paid' as const },
      settle,
      'refunded',
      'none',
      'duplicate',
    ],
  ])('%s', (_name, state, facts, attempt, action, outcome) => {
    expect(decideNotification(state, facts)).toMatchObject({ attemptStatus: attempt, action, outcome });
  });
});

describe('status_code against transaction_status', () => {
  it('accepts the codes Midtrans documents for each status', () => {
    expect(expectedStatusCodes('settlement')).toEqual(['200']);
    expect(expectedStatusCodes('capture', 'accept')).toEqual(['200']);
    expect(expectedStatusCodes('capture')).toEqual(['200']);
    expect(expectedStatusCodes('capture', 'challenge')).toEqual(['201']);
    expect(expectedStatusCodes('capture', 'deny')).toEqual(['202']);
    expect(expectedStatusCodes('pending')).toEqual(['201']);
    expect(expectedStatusCodes('deny')).toEqual(['202']);
    expect(expectedStatusCodes('expire')).toEqual(['202', '407']);
    expect(expectedStatusCodes('cancel')).toEqual(['200', '202']);
    expect(expectedStatusCodes('refund')).toEqual(['200']);
  });

  it('names the mismatch of a pending notification relabelled as settlement', () => {
    expect(statusCodeDisagreement({ transaction_status: 'settlement', status_code: '201' })).toBe(
      "status_code 201 does not go with transaction_status 'settlement': Midtrans sends 200",
    );
    expect(statusCodeDisagreement({ transaction_status: 'pending', status_code: '201' })).toBeUndefined();
    expect(
      statusCodeDisagreement({
        transaction_status: 'capture',
        fraud_status: 'challenge',
        status_code: '200',
      }),
    ).toMatch(/fraud_status 'challenge'.*Midtrans sends 201/);
  });
});

describe('NUL characters', () => {
  it('finds the field holding one, in values, keys and arrays', () => {
    expect(nulPath({ order_id: 'a', va_numbers: [{ bank: 'b\u0000' }] })).toBe('va_numbers[0].bank');
    expect(nulPath({ 'x\u0000': 1 })).toBe('x\u0000');
    expect(nulPath('\u0000')).toBe('(body)');
    expect(nulPath({ order_id: 'INV-1', gross_amount: '1.00', n: 5, ok: true, none: null })).toBeUndefined();
  });
});
