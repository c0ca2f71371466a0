// Midtrans for billing: the notification signature and body, gross_amount in whole rupiah, the pure
// state machine that decides what a notification does to a payment attempt and its invoice, and the
// gateway that creates Snap transactions and asks the Core API for a transaction's status.
import { createHash, timingSafeEqual } from 'node:crypto';
import midtrans, { type CoreApi, type Snap } from 'midtrans-client';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------------------

/** SHA-512 hex of order_id + status_code + gross_amount + server key, the strings exactly as sent. */
export function midtransSignature(
  orderId: string,
  statusCode: string,
  grossAmount: string,
  serverKey: string,
): string {
  return createHash('sha512')
    .update(`${orderId}${statusCode}${grossAmount}${serverKey}`, 'utf8')
    .digest('hex');
}

export function verifyNotificationSignature(
  n: { order_id: string; status_code: string; gross_amount: string; signature_key: string },
  serverKey: string,
): boolean {
  // Compared as bytes of equal length (64), so the comparison time says nothing about the key.
  if (!/^[0-9a-fA-F]{128}$/.test(n.signature_key)) return false;
  const expected = Buffer.from(
    midtransSignature(n.order_id, n.status_code, n.gross_amount, serverKey),
    'hex',
  );
  return timingSafeEqual(expected, Buffer.from(n.signature_key, 'hex'));
}

// ---------------------------------------------------------------------------------------------------
// Amounts and times
// ---------------------------------------------------------------------------------------------------

const GROSS_AMOUNT = /^(0|[1-9]\d{0,14})(?:\.(\d{1,2}))?$/;

/** "150000.00" or "150000" → 150000n. Rupiah have no minor unit: a non-zero fraction is an error. */
export function parseGrossAmountIdr(s: string): bigint {
  const shown = JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
  if (s.startsWith('-')) throw new Error(`gross_amount ${shown} is negative`);
  const m = GROSS_AMOUNT.exec(s);
  if (!m?.[1]) throw new Error(`gross_amount ${shown} is not an amount like "150000.00"`);
  if (m[2] !== undefined && /[1-9]/.test(m[2]))
    throw new Error(`gross_amount ${shown} has a fraction of a rupiah; IDR amounts are whole`);
  return BigInt(m[1]);
}

/** "yyyy-MM-dd HH:mm:ss" in Asia/Jakarta (UTC+7 all year), the way Midtrans writes its times. */
export function jakartaTime(d: Date): string {
  return new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

// ---------------------------------------------------------------------------------------------------
// The notification body (also the body of GET /v2/{order_id}/status)
// ---------------------------------------------------------------------------------------------------

export const transactionStatuses = [
  'authorize',
  'capture',
  'settlement',
  'pending',
  'deny',
  'cancel',
  'expire',
  'failure',
  'refund',
  'partial_refund',
  'chargeback',
  'partial_chargeback',
] as const;
export type MidtransTransactionStatus = (typeof transactionStatuses)[number];
export type FraudStatus = 'accept' | 'challenge' | 'deny';

const requiredString = (what: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? 'required' : `expected ${what}`) });
const optionalString = () => z.string({ error: 'expected a string' }).optional();

/**
 * Midtrans's HTTP notification. Fields the decision and the signature rest on are required and checked
 * closely; descriptive ones are kept when present. Payment-method details (va_numbers, acquirer,
 * masked_card, refunds, …) pass through untouched for the raw log.
 */
export const notificationSchema = z.looseObject({
  transaction_time: optionalString(),
  transaction_status: z.enum(transactionStatuses, {
    error: (iss) =>
      iss.input === undefined ? 'required' : `expected one of ${transactionStatuses.join(', ')}`,
  }),
  transaction_id: requiredString('a string').min(1, 'must not be empty'),
  status_message: optionalString(),
  status_code: requiredString("a three-digit code like '200'").regex(
    /^\d{3}$/,
    "expected a three-digit code like '200'",
  ),
  signature_key: requiredString('a SHA-512 hex digest').regex(
    /^[0-9a-fA-F]{128}$/,
    'expected a SHA-512 hex digest',
  ),
  payment_type: optionalString(),
  order_id: requiredString('a string').min(1, 'must not be empty').max(50, 'longer than 50 characters'),
  merchant_id: optionalString(),
  gross_amount: requiredString("an amount like '150000.00'")
    .regex(GROSS_AMOUNT, "expected an amount like '150000.00'")
    .refine((s) => !/\.\d*[1-9]/.test(s), 'has a fraction of a rupiah; IDR amounts are whole'),
  fraud_status: z
    .enum(['accept', 'challenge', 'deny'], { error: 'expected accept, challenge or deny' })
    .optional(),
  currency: z.literal('IDR', { error: 'expected IDR' }).optional(),
  settlement_time: optionalString(),
  expiry_time: optionalString(),
});
export type MidtransNotification = z.infer<typeof notificationSchema>;

// ---------------------------------------------------------------------------------------------------
// The state machine
// ---------------------------------------------------------------------------------------------------
//
// One payment attempt = one Midtrans order. Its status records what Midtrans says happened to the
// money; the invoice changes only through `action`. Checks run top to bottom, first match wins.
//
//   Midtrans says                        attempt was            → attempt     action          outcome
//   -----------------------------------  ---------------------  ----------  --------------  ----------------------------
//   settlement, capture+accept           paid                   paid        none            duplicate
//   ("a paying status")                  refunded               refunded    none            stale
//                                        status_code ≠ 200      unchanged¹  flag_review     unexpected_status_code
//                                        invoice paid by this   paid        none            duplicate (repair)
//                                        invoice paid otherwise paid        flag_overpaid   late_payment_on_paid_invoice
//                                        invoice cancelled      paid        flag_overpaid   paid_cancelled_invoice
//                                        gross ≠ amount due     paid        flag_review     amount_mismatch
//                                        otherwise (also after  paid        pay_invoice     paid
//                                        expired/cancelled/failed: Midtrans can settle a bank transfer late)
//
//   refund, chargeback                   invoice paid by this   refunded    refund_invoice  refunded
//                                        refunded               refunded    none            duplicate
//                                        otherwise              refunded    none            refunded (never paid it)
//   partial_refund, partial_chargeback   refunded               refunded    none            duplicate
//                                        invoice paid by this   refunded    flag_review     partially_refunded
//                                        otherwise              refunded    none            partially_refunded
//
//   cancel                               paid                   paid        flag_review     cancelled_after_paid
//   pending, authorize,                  the same stage         unchanged   none            duplicate
//   capture+challenge,                   paid or refunded       unchanged   none            stale
//   capture (no fraud_status),           a later stage²         unchanged   none            stale
//   deny, capture+deny, failure,         an earlier stage²      its stage   none            pending, challenge, denied,
//   expire, cancel                                                                          failed, expired, cancelled
//
//  ¹ 'created' becomes 'pending': Midtrans has a transaction for the order.
//  ² Stages: created < pending < challenge < failed = expired = cancelled. Notifications can arrive out of
//    order; an older stage never overwrites a newer one.
//
// Why:
//  - capture without fraud_status is held like a challenge: Midtrans's own handler pays a capture only
//    on fraud_status accept; a later settlement pays.
//  - A mismatched amount still marks the attempt paid (money did move) but never pays the invoice;
//    staff decide. Repeats are then duplicates and the status poll stops asking.
//  - refund_invoice reverses this order's payment of the invoice: the invoice is due again (unpaid, or
//    overdue past its due date) and no longer paid by this order, so a repeat is a duplicate. A refund
//    is a merchant decision made in Midtrans; the books follow the money, and staff cancel the invoice
//    if the refund was a waiver. A partial refund leaves the invoice paid (a goodwill credit) and is
//    flagged for a credit note. A second partial refund of the same order reads as a duplicate; the
//    raw log keeps its refunds array.
//  - cancel after paid may be a void of a captured card payment or a stale cancel of a method the
//    customer abandoned in Snap; the invoice stays paid and staff check in the Midtrans dashboard.

export type PaymentAttemptStatus =
  'pending' | 'paid' | 'failed' | 'expired' | 'cancelled' | 'refunded' | 'challenge';
export type InvoiceStatus = 'unpaid' | 'overdue' | 'paid' | 'cancelled';

export interface PaymentAttemptState {
  attemptStatus: PaymentAttemptStatus | 'created';
  invoiceStatus: InvoiceStatus;
  /** The amount this order asked Midtrans for (the invoice's amount due when the attempt was made). */
  invoiceAmountIdr: bigint;
  /** The order whose payment paid the invoice; null when unpaid or paid another way (cash, transfer). */
  invoicePaidByOrderId?: string | null;
}

export interface NotificationFacts {
  orderId: string;
  transactionStatus: MidtransTransactionStatus;
  fraudStatus?: FraudStatus | undefined;
  grossAmountIdr: bigint;
  statusCode: string;
}

export type NotificationAction =
  /** Mark the invoice paid by this order (and extend/restore the service). */
  | 'pay_invoice'
  /** Undo this order's payment of the invoice: due again, paid_by cleared. */
  | 'refund_invoice'
  /** Money arrived that must not pay the invoice: staff refund it. */
  | 'flag_overpaid'
  /** Nothing changes; staff look at it. */
  | 'flag_review'
  | 'none';

export type NotificationOutcome =
  | 'paid'
  | 'duplicate'
  | 'stale'
  | 'amount_mismatch'
  | 'unexpected_status_code'
  | 'late_payment_on_paid_invoice'
  | 'paid_cancelled_invoice'
  | 'pending'
  | 'challenge'
  | 'denied'
  | 'failed'
  | 'expired'
  | 'cancelled'
  | 'cancelled_after_paid'
  | 'refunded'
  | 'partially_refunded';

export interface NotificationDecision {
  attemptStatus: PaymentAttemptStatus;
  action: NotificationAction;
  outcome: NotificationOutcome;
  reason?: string;
}

/** The parts of a parsed notification (or status answer) the state machine needs. */
export function notificationFacts(n: MidtransNotification): NotificationFacts {
  return {
    orderId: n.order_id,
    transactionStatus: n.transaction_status,
    fraudStatus: n.fraud_status,
    grossAmountIdr: parseGrossAmountIdr(n.gross_amount),
    statusCode: n.status_code,
  };
}

type Target =
  | { kind: 'pay' }
  | { kind: 'refund'; full: boolean }
  | {
      kind: 'stage';
      status: 'pending' | 'challenge' | 'failed' | 'expired' | 'cancelled';
      outcome: NotificationOutcome;
    };

function targetOf(n: NotificationFacts): Target {
  switch (n.transactionStatus) {
    case 'settlement':
      return { kind: 'pay' };
    case 'capture':
      if (n.fraudStatus === 'accept') return { kind: 'pay' };
      if (n.fraudStatus === 'deny') return { kind: 'stage', status: 'failed', outcome: 'denied' };
      return { kind: 'stage', status: 'challenge', outcome: 'challenge' };
    case 'pending':
    case 'authorize':
      return { kind: 'stage', status: 'pending', outcome: 'pending' };
    case 'deny':
      return { kind: 'stage', status: 'failed', outcome: 'denied' };
    case 'failure':
      return { kind: 'stage', status: 'failed', outcome: 'failed' };
    case 'expire':
      return { kind: 'stage', status: 'expired', outcome: 'expired' };
    case 'cancel':
      return { kind: 'stage', status: 'cancelled', outcome: 'cancelled' };
    case 'refund':
    case 'chargeback':
      return { kind: 'refund', full: true };
    case 'partial_refund':
    case 'partial_chargeback':
      return { kind: 'refund', full: false };
  }
}

const STAGE: Record<PaymentAttemptStatus | 'created', number> = {
  created: 0,
  pending: 1,
  challenge: 2,
  failed: 3,
  expired: 3,
  cancelled: 3,
  paid: 4,
  refunded: 5,
};

export function decideNotification(current: PaymentAttemptState, n: NotificationFacts): NotificationDecision {
  const was = current.attemptStatus;
  const kept: PaymentAttemptStatus = was === 'created' ? 'pending' : was;
  const paidByThis =
    current.invoiceStatus === 'paid' &&
    !!current.invoicePaidByOrderId &&
    current.invoicePaidByOrderId === n.orderId;
  const t = targetOf(n);
  const said = n.fraudStatus ? `${n.transactionStatus} (fraud_status ${n.fraudStatus})` : n.transactionStatus;

  if (t.kind === 'pay') {
    if (was === 'paid')
      return { attemptStatus: 'paid', action: 'none', outcome: 'duplicate', reason: 'order already paid' };
    if (was === 'refunded')
      return {
        attemptStatus: 'refunded',
        action: 'none',
        outcome: 'stale',
        reason: `order was refunded; a late ${said} does not pay again`,
      };
    if (n.statusCode !== '200')
      return {
        attemptStatus: kept,
        action: 'flag_review',
        outcome: 'unexpected_status_code',
        reason: `${said} came with status_code ${n.statusCode}, not 200`,
      };
    if (paidByThis)
      return {
        attemptStatus: 'paid',
        action: 'none',
        outcome: 'duplicate',
        reason: 'invoice already paid by this order',
      };
    if (current.invoiceStatus === 'paid')
      return {
        attemptStatus: 'paid',
        action: 'flag_overpaid',
        outcome: 'late_payment_on_paid_invoice',
        reason: `invoice already paid${current.invoicePaidByOrderId ? ` by order ${current.invoicePaidByOrderId}` : ' another way'}; refund ${n.grossAmountIdr} IDR of order ${n.orderId}`,
      };
    if (current.invoiceStatus === 'cancelled')
      return {
        attemptStatus: 'paid',
        action: 'flag_overpaid',
        outcome: 'paid_cancelled_invoice',
        reason: `invoice was cancelled; refund ${n.grossAmountIdr} IDR of order ${n.orderId}`,
      };
    if (n.grossAmountIdr !== current.invoiceAmountIdr)
      return {
        attemptStatus: 'paid',
        action: 'flag_review',
        outcome: 'amount_mismatch',
        reason: `gross_amount ${n.grossAmountIdr} IDR but ${current.invoiceAmountIdr} IDR is due`,
      };
    return {
      attemptStatus: 'paid',
      action: 'pay_invoice',
      outcome: 'paid',
      ...(STAGE[was] === 3 ? { reason: `${said} after the order was ${was}` } : {}),
    };
  }

  if (t.kind === 'refund') {
    const outcome = t.full ? 'refunded' : 'partially_refunded';
    if (t.full && paidByThis)
      return {
        attemptStatus: 'refunded',
        action: 'refund_invoice',
        outcome,
        reason: `${n.transactionStatus} of order ${n.orderId}, which paid the invoice; the invoice is due again`,
      };
    if (was === 'refunded')
      return {
        attemptStatus: 'refunded',
        action: 'none',
        outcome: 'duplicate',
        reason: 'order already refunded',
      };
    if (!t.full && paidByThis)
      return {
        attemptStatus: 'refunded',
        action: 'flag_review',
        outcome,
        reason: `${n.transactionStatus} of order ${n.orderId}; the invoice stays paid, issue a credit note`,
      };
    return {
      attemptStatus: 'refunded',
      action: 'none',
      outcome,
      reason: `${n.transactionStatus} of order ${n.orderId}, which did not pay the invoice`,
    };
  }

  if (t.status === was)
    return { attemptStatus: kept, action: 'none', outcome: 'duplicate', reason: `order already ${was}` };
  if (was === 'paid' && t.status === 'cancelled')
    return {
      attemptStatus: 'paid',
      action: 'flag_review',
      outcome: 'cancelled_after_paid',
      reason:
        'cancel after the order paid: a void of a captured card, or an abandoned method; check in Midtrans',
    };
  if (STAGE[t.status] <= STAGE[was])
    return {
      attemptStatus: kept,
      action: 'none',
      outcome: 'stale',
      reason: `${said} arrived after the order was ${was}`,
    };
  return { attemptStatus: t.status, action: 'none', outcome: t.outcome };
}

// ---------------------------------------------------------------------------------------------------
// The gateway: Snap and the Core API status call through midtrans-client
// ---------------------------------------------------------------------------------------------------
//
// Base URLs: midtrans-client builds every URL from `apiConfig.getSnapApiBaseUrl()` /
// `getCoreApiBaseUrl()` (prototype methods that pick sandbox or production). The constructor shadows
// them on this gateway's own ApiConfig instances, so the override touches no other client and no
// static of the library (see node_modules/midtrans-client/lib/apiConfig.js). Snap's base includes
// "/snap/v1"; the Core API's is the host alone ("/v2/{order_id}/status" is appended).

/** A request we refuse to send (it would be wrong); names the Midtrans field. */
export class MidtransRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'MidtransRequestError';
  }
}

/** A refused or failed Midtrans call, with Midtrans's own messages and never the server key. */
export class MidtransApiError extends Error {
  constructor(
    readonly operation: string,
    /** HTTP status (or Midtrans's status_code); undefined when no answer came. */
    readonly httpStatusCode: number | undefined,
    readonly midtransMessages: string[],
    detail: string,
  ) {
    super(`Midtrans ${operation} failed: ${detail}`);
    this.name = 'MidtransApiError';
  }
}

export interface SnapItem {
  id: string;
  name: string;
  priceIdr: bigint;
  quantity: number;
}

export interface SnapTransactionRequest {
  orderId: string;
  grossAmountIdr: bigint;
  items: SnapItem[];
  customer: { firstName: string; lastName?: string; email?: string; phone?: string };
  expiryMinutes: number;
  startTime: Date;
  finishUrl?: string;
}

export interface MidtransGatewayOptions {
  serverKey: string;
  clientKey?: string;
  isProduction: boolean;
  /** e.g. "http://127.0.0.1:PORT/snap/v1" for the loopback fake. */
  snapBaseUrl?: string;
  /** e.g. "http://127.0.0.1:PORT" for the loopback fake. */
  coreBaseUrl?: string;
  timeoutMs?: number;
}

/** Midtrans allows letters, digits, '-', '_', '~' and '.', at most 50. */
const ORDER_ID = /^[A-Za-z0-9\-_.~]{1,50}$/;

/** Cuts to `max` characters without splitting a surrogate pair. */
function cut(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max).join('');
}

function exactNumber(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new MidtransRequestError(field, `${v} is too large to send exactly`);
  return Number(v);
}

export class MidtransGateway {
  private readonly snap: Snap;
  private readonly core: CoreApi;
  private readonly serverKey: string;

  constructor(o: MidtransGatewayOptions) {
    if (!o.serverKey) throw new Error('Midtrans server key is empty');
    this.serverKey = o.serverKey;
    const options = { isProduction: o.isProduction, serverKey: o.serverKey, clientKey: o.clientKey ?? '' };
    this.snap = new midtrans.Snap(options);
    this.core = new midtrans.CoreApi(options);
    if (o.snapBaseUrl !== undefined) {
      const base = o.snapBaseUrl.replace(/\/+$/, '');
      this.snap.apiConfig.getSnapApiBaseUrl = () => base;
    }
    if (o.coreBaseUrl !== undefined) {
      const base = o.coreBaseUrl.replace(/\/+$/, '');
      this.core.apiConfig.getCoreApiBaseUrl = () => base;
    }
    const timeout = o.timeoutMs ?? 10_000;
    this.snap.httpClient.http_client.defaults.timeout = timeout;
    this.core.httpClient.http_client.defaults.timeout = timeout;
  }

  /** POST /snap/v1/transactions: one order id per attempt; items must add up to the gross amount. */
  async createSnapTransaction(r: SnapTransactionRequest): Promise<{ token: string; redirectUrl: string }> {
    const body = snapTransactionBody(r);
    let res: unknown;
    try {
      res = await this.snap.createTransaction(body);
    } catch (err) {
      throw this.rewrap(err, `Snap transaction ${r.orderId}`);
    }
    const parsed = z.object({ token: z.string().min(1), redirect_url: z.string().min(1) }).safeParse(res);
    if (!parsed.success)
      throw new MidtransApiError(
        `Snap transaction ${r.orderId}`,
        undefined,
        [],
        'answer lacks token or redirect_url',
      );
    return { token: parsed.data.token, redirectUrl: parsed.data.redirect_url };
  }

  /** GET /v2/{order_id}/status, parsed like a notification (Midtrans signs both the same way). */
  async status(orderId: string): Promise<MidtransNotification> {
    if (!ORDER_ID.test(orderId))
      throw new MidtransRequestError('order_id', `${JSON.stringify(orderId)} is not a Midtrans order id`);
    let raw: unknown;
    try {
      raw = await this.core.transaction.status(orderId);
    } catch (err) {
      throw this.rewrap(err, `status of ${orderId}`);
    }
    const parsed = notificationSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MidtransApiError(
        `status of ${orderId}`,
        undefined,
        [],
        `unexpected answer: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data;
  }

  /**
   * midtrans-client rejects with a MidtransError whose rawHttpClientData holds the axios request,
   * Authorization header included. Only the status and Midtrans's messages are carried over.
   */
  private rewrap(err: unknown, operation: string): MidtransApiError {
    const redact = (s: string): string => s.split(this.serverKey).join('[server key]');
    const e = midtransErrorShape.safeParse(err);
    if (!(err instanceof midtrans.MidtransError) || !e.success)
      return new MidtransApiError(
        operation,
        undefined,
        [],
        `unexpected error in midtrans-client: ${redact(err instanceof Error ? err.message : String(err))}`,
      );
    const api = apiResponseShape.safeParse(e.data.ApiResponse);
    const messages = (
      api.success
        ? (api.data.error_messages ??
          (api.data.status_message !== undefined ? [api.data.status_message] : []))
        : []
    ).map(redact);
    const code = e.data.httpStatusCode;
    const status =
      code === undefined || code === null || !Number.isFinite(Number(code)) ? undefined : Number(code);
    if (status === undefined) {
      const cause = networkCode.safeParse(e.data.rawHttpClientData);
      const why = cause.success ? (cause.data.code ?? 'network error') : 'network error';
      return new MidtransApiError(operation, undefined, messages, `no answer from Midtrans (${redact(why)})`);
    }
    return new MidtransApiError(
      operation,
      status,
      messages,
      `HTTP ${status}: ${messages.join('; ') || 'no message'}`,
    );
  }
}

const midtransErrorShape = z.looseObject({
  httpStatusCode: z.union([z.number(), z.string()]).nullish(),
  ApiResponse: z.unknown(),
  rawHttpClientData: z.unknown(),
});
const apiResponseShape = z.looseObject({
  error_messages: z.array(z.string()).optional(),
  status_message: z.string().optional(),
});
const networkCode = z.looseObject({ code: z.string().optional() });

/** The Snap request body; throws MidtransRequestError before anything is sent. */
export function snapTransactionBody(r: SnapTransactionRequest): Record<string, unknown> {
  if (!ORDER_ID.test(r.orderId))
    throw new MidtransRequestError(
      'transaction_details.order_id',
      `${JSON.stringify(r.orderId)} must be 1-50 letters, digits, '-', '_', '~' or '.'`,
    );
  if (r.grossAmountIdr <= 0n)
    throw new MidtransRequestError('transaction_details.gross_amount', 'must be positive');
  if (r.items.length === 0) throw new MidtransRequestError('item_details', 'at least one item is needed');
  let sum = 0n;
  r.items.forEach((item, i) => {
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1)
      throw new MidtransRequestError(`item_details[${i}].quantity`, 'must be a whole number of at least 1');
    if (!item.name.trim()) throw new MidtransRequestError(`item_details[${i}].name`, 'must not be empty');
    sum += item.priceIdr * BigInt(item.quantity);
  });
  if (sum !== r.grossAmountIdr)
    throw new MidtransRequestError(
      'item_details',
      `items add up to ${sum} IDR but transaction_details.gross_amount is ${r.grossAmountIdr} IDR`,
    );
  if (!Number.isSafeInteger(r.expiryMinutes) || r.expiryMinutes < 1)
    throw new MidtransRequestError('expiry.duration', 'must be a whole number of minutes, at least 1');
  if (Number.isNaN(r.startTime.getTime()))
    throw new MidtransRequestError('expiry.start_time', 'is not a valid time');
  const c = r.customer;
  return {
    transaction_details: {
      order_id: r.orderId,
      gross_amount: exactNumber(r.grossAmountIdr, 'transaction_details.gross_amount'),
    },
    // Midtrans caps id and name at 50 characters.
    item_details: r.items.map((item, i) => ({
      id: cut(item.id, 50),
      name: cut(item.name, 50),
      price: exactNumber(item.priceIdr, `item_details[${i}].price`),
      quantity: item.quantity,
    })),
    customer_details: {
      first_name: cut(c.firstName, 255),
      ...(c.lastName ? { last_name: cut(c.lastName, 255) } : {}),
      ...(c.email ? { email: cut(c.email, 255) } : {}),
      ...(c.phone ? { phone: cut(c.phone, 255) } : {}),
    },
    expiry: { start_time: `${jakartaTime(r.startTime)} +0700`, unit: 'minute', duration: r.expiryMinutes },
    // 3-D Secure keeps card payments out of fraud challenges where the issuer supports it.
    credit_card: { secure: true },
    ...(r.finishUrl ? { callbacks: { finish: r.finishUrl } } : {}),
  };
}
