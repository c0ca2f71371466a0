// Midtrans HTTP notifications: the signature, the body's shape, and the pure state machine that decides
// what a notification does to a payment attempt and its invoice.
//
// transaction_status (+ fraud_status)   attempt      invoice action
// ------------------------------------  -----------  ----------------------------------------------
// settlement                            paid         pay (if amount matches and invoice payable)
// capture + accept (or no fraud status) paid         pay
// capture + challenge                   challenge    none (staff accept/deny in the Midtrans portal)
// capture + deny, deny                  failed       none
// pending                               pending      none
// expire                                expired      none
// cancel                                cancelled    none
// refund, partial_refund                refunded     flag_refund: audit + staff follow-up; the invoice
//                                                    stays paid (money already reached the ISP; a refund
//                                                    is a staff decision, e.g. a credit note)
// Special cases, checked first: the same status again → 'duplicate' (no action); an amount that is
// not the amount due → 'amount_mismatch' (no action); a paying status for an invoice already paid by
// another order → 'late_payment_on_paid_invoice' (flag_overpaid: staff refund, never a second pay);
// paying a cancelled invoice → 'paid_cancelled_invoice' (flag_overpaid). Settlement after expire or
// pending still pays: Midtrans can settle a bank transfer late.
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export function midtransSignature(
  orderId: string,
  statusCode: string,
  grossAmount: string,
  serverKey: string,
): string {
  return createHash('sha512').update(`${orderId}${statusCode}${grossAmount}${serverKey}`).digest('hex');
}

export function verifyNotificationSignature(
  n: { order_id: string; status_code: string; gross_amount: string; signature_key: string },
  serverKey: string,
): boolean {
  const expected = Buffer.from(
    midtransSignature(n.order_id, n.status_code, n.gross_amount, serverKey),
    'utf8',
  );
  const given = Buffer.from(n.signature_key.toLowerCase(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export const notificationSchema = z.looseObject({
  transaction_time: z.string().optional(),
  transaction_status: z.enum([
    'capture',
    'settlement',
    'pending',
    'deny',
    'cancel',
    'expire',
    'failure',
    'refund',
    'partial_refund',
    'authorize',
  ]),
  transaction_id: z.string().min(1),
  status_message: z.string().optional(),
  status_code: z.string().regex(/^\d{3}$/, 'a three-digit status code'),
  signature_key: z.string().regex(/^[0-9a-fA-F]{128}$/, 'a SHA-512 hex digest'),
  payment_type: z.string().optional(),
  order_id: z.string().min(1).max(50),
  merchant_id: z.string().optional(),
  gross_amount: z.string().regex(/^\d+(\.\d{1,2})?$/, "an amount like '150000.00'"),
  fraud_status: z.enum(['accept', 'challenge', 'deny']).optional(),
  currency: z.string().optional(),
  settlement_time: z.string().optional(),
  expiry_time: z.string().optional(),
});
export type MidtransNotification = z.infer<typeof notificationSchema>;

/**
 * The status codes Midtrans sends with each transaction_status (docs.midtrans.com, "Code 2xx" and
 * "Transaction Status Cycle"): 200 for a successful capture/settlement/cancel/refund, 201 for pending
 * and for a capture held by the fraud system (challenge), 202 for a denied or failed one; expiry comes
 * as 202 in notifications and 407 from the status API. The signature covers status_code but not
 * transaction_status, so a status that disagrees with its signed code is a tampered body.
 */
export function expectedStatusCodes(
  transactionStatus: MidtransNotification['transaction_status'],
  fraudStatus?: MidtransNotification['fraud_status'],
): readonly string[] {
  switch (transactionStatus) {
    case 'settlement':
    case 'authorize':
    case 'refund':
    case 'partial_refund':
      return ['200'];
    case 'capture':
      return fraudStatus === 'challenge' ? ['201'] : fraudStatus === 'deny' ? ['202'] : ['200'];
    case 'pending':
      return ['201'];
    case 'deny':
    case 'failure':
      return ['202'];
    case 'cancel':
      return ['200', '202'];
    case 'expire':
      return ['202', '407'];
  }
}

/** Undefined when status_code goes with transaction_status; otherwise why not, for the answer. */
export function statusCodeDisagreement(n: {
  transaction_status: MidtransNotification['transaction_status'];
  fraud_status?: MidtransNotification['fraud_status'];
  status_code: string;
}): string | undefined {
  const expected = expectedStatusCodes(n.transaction_status, n.fraud_status);
  if (expected.includes(n.status_code)) return undefined;
  return `status_code ${n.status_code} does not go with transaction_status '${n.transaction_status}'${n.fraud_status ? ` (fraud_status '${n.fraud_status}')` : ''}: Midtrans sends ${expected.join(' or ')}`;
}

/** The path of the first string (key or value) holding a NUL character, which PostgreSQL text and
 * jsonb cannot store and no real Midtrans body contains. */
export function nulPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path || '(body)' : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = nulPath(v, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      const here = path ? `${path}.${k}` : k;
      if (k.includes('\0')) return here;
      const found = nulPath(v, here);
      if (found) return found;
    }
  return undefined;
}

/** "150000.00" → 150000n. IDR has no minor unit: a non-zero fraction is an error, not a rounding. */
export function parseGrossAmountIdr(s: string): bigint {
  const m = /^(\d{1,15})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m?.[1]) throw new Error(`'${s}' is not an amount`);
  if (m[2] && /[1-9]/.test(m[2])) throw new Error(`'${s}' has a fraction; rupiah amounts are whole`);
  return BigInt(m[1]);
}

export type PaymentAttemptStatus =
  'created' | 'pending' | 'paid' | 'failed' | 'expired' | 'cancelled' | 'refunded' | 'challenge';

export interface AttemptState {
  attemptStatus: PaymentAttemptStatus;
  invoiceStatus: 'unpaid' | 'overdue' | 'paid' | 'cancelled';
  invoiceAmountIdr: bigint;
  /** Order that paid the invoice, if any. */
  invoicePaidByOrderId: string | null;
}

export interface NotificationFacts {
  orderId: string;
  transactionStatus: MidtransNotification['transaction_status'];
  fraudStatus?: 'accept' | 'challenge' | 'deny';
  grossAmountIdr: bigint;
}

export interface Decision {
  attemptStatus: PaymentAttemptStatus;
  action: 'pay_invoice' | 'none' | 'flag_refund' | 'flag_overpaid';
  outcome:
    | 'paid'
    | 'duplicate'
    | 'amount_mismatch'
    | 'pending'
    | 'challenge'
    | 'failed'
    | 'expired'
    | 'cancelled'
    | 'refunded'
    | 'late_payment_on_paid_invoice'
    | 'paid_cancelled_invoice';
  reason?: string;
}

/** Every outcome a notification or poll can have: the metric's label values, zero from the start. */
export const MIDTRANS_OUTCOMES = [
  'paid',
  'duplicate',
  'amount_mismatch',
  'pending',
  'challenge',
  'failed',
  'expired',
  'cancelled',
  'refunded',
  'late_payment_on_paid_invoice',
  'paid_cancelled_invoice',
  'malformed',
  'invalid_signature',
  'status_code_mismatch',
  'unknown_order',
  'duplicate_transaction',
  'not_confirmed',
  'status_unavailable',
  'status_invalid',
] as const;
export type MidtransOutcome = (typeof MIDTRANS_OUTCOMES)[number];

function attemptStatusOf(f: NotificationFacts): Exclude<PaymentAttemptStatus, 'created'> {
  switch (f.transactionStatus) {
    case 'settlement':
      return 'paid';
    case 'capture':
      return f.fraudStatus === 'challenge' ? 'challenge' : f.fraudStatus === 'deny' ? 'failed' : 'paid';
    case 'authorize':
    case 'pending':
      return 'pending';
    case 'deny':
    case 'failure':
      return 'failed';
    case 'expire':
      return 'expired';
    case 'cancel':
      return 'cancelled';
    case 'refund':
    case 'partial_refund':
      return 'refunded';
  }
}

export function decideNotification(s: AttemptState, f: NotificationFacts): Decision {
  const next = attemptStatusOf(f);
  if (next === s.attemptStatus)
    return { attemptStatus: next, action: 'none', outcome: 'duplicate', reason: `order already ${next}` };
  if (next === 'paid') {
    if (s.attemptStatus === 'refunded')
      return {
        attemptStatus: s.attemptStatus,
        action: 'none',
        outcome: 'duplicate',
        reason: 'order was refunded; a late settlement does not pay again',
      };
    if (f.grossAmountIdr !== s.invoiceAmountIdr)
      return {
        attemptStatus: s.attemptStatus,
        action: 'none',
        outcome: 'amount_mismatch',
        reason: `gross_amount ${f.grossAmountIdr} but ${s.invoiceAmountIdr} is due`,
      };
    if (s.invoiceStatus === 'paid')
      return s.invoicePaidByOrderId === f.orderId
        ? {
            attemptStatus: 'paid',
            action: 'none',
            outcome: 'duplicate',
            reason: 'invoice already paid by this order',
          }
        : {
            attemptStatus: 'paid',
            action: 'flag_overpaid',
            outcome: 'late_payment_on_paid_invoice',
            reason: `invoice already paid${s.invoicePaidByOrderId ? ` by ${s.invoicePaidByOrderId}` : ''}; refund this payment`,
          };
    if (s.invoiceStatus === 'cancelled')
      return {
        attemptStatus: 'paid',
        action: 'flag_overpaid',
        outcome: 'paid_cancelled_invoice',
        reason: 'invoice was cancelled; refund this payment',
      };
    return { attemptStatus: 'paid', action: 'pay_invoice', outcome: 'paid' };
  }
  // A paid order never goes back to pending/failed/expired by a late, out-of-order notification.
  if (s.attemptStatus === 'paid' && next !== 'refunded')
    return {
      attemptStatus: 'paid',
      action: 'none',
      outcome: 'duplicate',
      reason: `order already paid; ignoring ${f.transactionStatus}`,
    };
  if (next === 'refunded')
    return {
      attemptStatus: 'refunded',
      action: 'flag_refund',
      outcome: 'refunded',
      reason: 'Midtrans refunded the payment; staff decide the invoice',
    };
  return { attemptStatus: next, action: 'none', outcome: next };
}
