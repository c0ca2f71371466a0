// Midtrans Snap payments: one order per attempt for an invoice, the HTTP notification endpoint and the
// status poll. Every notification is stored raw first (its own transaction), then judged by the pure
// state machine (payments/midtrans.ts) and applied under row locks on the order and the invoice, so
// duplicates and concurrent deliveries pay an invoice once.
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { ApiError, audit, exec, notFound, one, q, tx, type Em } from '../db/sql.js';
import type { InvoiceService } from '../invoices.js';
import type { BillingMetrics } from '../metrics.js';
import type { BillingPolicy } from '../policy.js';
import {
  decideNotification,
  notificationSchema,
  nulPath,
  parseGrossAmountIdr,
  statusCodeDisagreement,
  verifyNotificationSignature,
  type MidtransNotification,
  type MidtransOutcome,
  type PaymentAttemptStatus,
} from './notification.js';
import { MidtransApiError, type MidtransGateway } from './snap.js';

export interface NotificationAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface OrderRow {
  order_id: string;
  invoice_id: string;
  gross_amount_idr: string;
  status: PaymentAttemptStatus | 'created';
  created_at: Date;
  expires_at: Date;
}

export class PaymentService {
  constructor(
    private readonly orm: MikroORM,
    private readonly gateway: MidtransGateway | undefined,
    private readonly serverKey: string | undefined,
    private readonly invoices: InvoiceService,
    private readonly policy: BillingPolicy,
    private readonly metrics: BillingMetrics,
    private readonly logger: Logger,
  ) {}

  /** Creates a Snap transaction for an unpaid invoice: a fresh order id for every attempt. */
  async createSnap(
    invoiceId: string,
    actor: string,
    now: Date,
    o: { finishUrl?: string } = {},
  ): Promise<Record<string, unknown>> {
    if (!this.gateway) throw new ApiError(503, 'Midtrans is not configured (MIDTRANS_SERVER_KEY)');
    const inv = await one<{
      id: string;
      number: string;
      status: string;
      amount_idr: string;
      credit_idr: string;
      description: string;
      customer_id: string;
    }>(
      this.orm.em.fork(),
      'select id, number, status, amount_idr, credit_idr, description, customer_id from invoices where id = ?',
      [invoiceId],
    );
    if (!inv) throw notFound('invoice', invoiceId);
    if (inv.status !== 'unpaid' && inv.status !== 'overdue')
      throw new ApiError(409, `invoice ${inv.number} is ${inv.status}`);
    const customer = await one<{ name: string; email: string | null; phone: string | null }>(
      this.orm.em.fork(),
      'select name, email, phone from customers where id = ?',
      [inv.customer_id],
    );
    const gross = BigInt(inv.amount_idr) - BigInt(inv.credit_idr);
    const orderId = `${inv.number}-${randomBytes(4).toString('hex')}`;
    const expiresAt = new Date(now.getTime() + this.policy.payment_expiry_minutes * 60_000);
    await tx(this.orm, async (em) => {
      await exec(
        em,
        "insert into payment_orders (order_id, invoice_id, gross_amount_idr, status, created_at, expires_at, updated_at) values (?, ?, ?, 'created', ?, ?, ?)",
        [orderId, invoiceId, gross.toString(), now, expiresAt, now],
      );
      await audit(em, now, {
        actor,
        entity: 'invoices',
        entityId: invoiceId,
        action: 'midtrans_order',
        detail: { order_id: orderId, gross_amount_idr: gross.toString() },
      });
    });
    const items = [
      { id: inv.number, name: inv.description || inv.number, priceIdr: BigInt(inv.amount_idr), quantity: 1 },
    ];
    if (BigInt(inv.credit_idr) > 0n)
      items.push({
        id: `${inv.number}-credit`,
        name: 'Service credit',
        priceIdr: -BigInt(inv.credit_idr),
        quantity: 1,
      });
    const [first = customer?.name ?? 'Customer', ...rest] = (customer?.name ?? 'Customer').split(' ');
    let snap: { token: string; redirectUrl: string };
    try {
      snap = await this.gateway.createSnapTransaction({
        orderId,
        grossAmountIdr: gross,
        items,
        customer: {
          firstName: first,
          ...(rest.length ? { lastName: rest.join(' ') } : {}),
          ...(customer?.email ? { email: customer.email } : {}),
          ...(customer?.phone ? { phone: customer.phone } : {}),
        },
        expiryMinutes: this.policy.payment_expiry_minutes,
        startTime: now,
        ...(o.finishUrl ? { finishUrl: o.finishUrl } : {}),
      });
    } catch (err) {
      await exec(
        this.orm.em.fork(),
        "update payment_orders set status = 'failed', updated_at = ? where order_id = ?",
        [now, orderId],
      );
      this.logger.warn(
        { event: 'midtrans_create_failed', order_id: orderId, error: (err as Error).message },
        'Midtrans Snap transaction failed',
      );
      throw new ApiError(502, `Midtrans refused the transaction: ${(err as Error).message}`);
    }
    await exec(
      this.orm.em.fork(),
      "update payment_orders set snap_token = ?, redirect_url = ?, status = 'pending', updated_at = ? where order_id = ?",
      [snap.token, snap.redirectUrl, now, orderId],
    );
    return {
      order_id: orderId,
      invoice_id: Number(invoiceId),
      gross_amount_idr: Number(gross),
      token: snap.token,
      redirect_url: snap.redirectUrl,
      expires_at: expiresAt.toISOString(),
    };
  }

  /** The notification endpoint. Answers: 200 applied/ignored, 400 malformed or a status_code that does
   * not go with the status, 401 bad signature, 404 unknown order, 409 a transaction id already booked
   * for another order, 422 amount mismatch or a transaction the status API does not know; 502/503
   * when the status API or the database cannot answer (Midtrans retries). Every body is stored. */
  async handleNotification(body: Buffer | string, now: Date): Promise<NotificationAnswer> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    let raw: string;
    try {
      raw = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      await this.log(now, 'notification', bytes, undefined, false, 'malformed', 'body is not UTF-8');
      return { status: 400, body: { error: 'invalid Midtrans notification: body is not UTF-8' } };
    }
    if (raw.includes('\0')) {
      await this.log(now, 'notification', bytes, undefined, false, 'malformed', 'body contains a NUL byte');
      return { status: 400, body: { error: 'invalid Midtrans notification: body contains a NUL byte' } };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const nul = parsed === undefined ? undefined : nulPath(parsed);
    const result = parsed === undefined || nul ? undefined : notificationSchema.safeParse(parsed);
    if (!result?.success) {
      const issue = result?.error.issues[0];
      const reason = nul
        ? `${nul}: contains a NUL character (\\u0000)`
        : result
          ? `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`
          : 'body is not JSON';
      await this.log(now, 'notification', bytes, undefined, false, 'malformed', reason);
      return { status: 400, body: { error: `invalid Midtrans notification: ${reason}` } };
    }
    return this.apply(result.data, bytes, now, 'notification');
  }

  /** Asks the status API what Midtrans itself says of the order; money is booked on this answer only. */
  private async confirm(
    n: MidtransNotification,
  ): Promise<
    | { status: MidtransNotification }
    | { answer: NotificationAnswer; outcome: MidtransOutcome; reason: string }
  > {
    if (!this.gateway || this.serverKey === undefined)
      return {
        outcome: 'status_unavailable',
        reason: 'Midtrans is not configured',
        answer: { status: 503, body: { error: 'Midtrans is not configured; nothing applied' } },
      };
    let status: MidtransNotification;
    try {
      status = await this.gateway.status(n.order_id);
    } catch (err) {
      const e = err as Error & { httpStatusCode?: number };
      if (err instanceof MidtransApiError && e.httpStatusCode === 404)
        return {
          outcome: 'not_confirmed',
          reason: `the status API does not know order ${n.order_id}`,
          answer: {
            status: 422,
            body: { error: `Midtrans's status API does not know order ${n.order_id}; nothing applied` },
          },
        };
      return {
        outcome: 'status_unavailable',
        reason: e.message,
        answer: {
          status: 503,
          body: { error: "Midtrans's status API did not answer; nothing applied, send again" },
        },
      };
    }
    const wrong =
      status.order_id !== n.order_id
        ? `it answered for order ${status.order_id}`
        : !verifyNotificationSignature(status, this.serverKey)
          ? 'its signature_key does not verify'
          : statusCodeDisagreement(status);
    if (wrong)
      return {
        outcome: 'status_invalid',
        reason: `status API answer refused: ${wrong}`,
        answer: {
          status: 502,
          body: { error: `Midtrans's status API answer was refused (${wrong}); nothing applied` },
        },
      };
    return { status };
  }

  private async apply(
    n: MidtransNotification,
    bytes: Buffer,
    now: Date,
    source: 'notification' | 'poll',
  ): Promise<NotificationAnswer> {
    const signatureOk = this.serverKey !== undefined && verifyNotificationSignature(n, this.serverKey);
    if (!signatureOk) {
      await this.log(
        now,
        source,
        bytes,
        n,
        false,
        'invalid_signature',
        'signature_key does not match order_id + status_code + gross_amount + server key',
      );
      return { status: 401, body: { error: 'signature_key does not verify; nothing applied' } };
    }
    const disagreement = statusCodeDisagreement(n);
    if (disagreement) {
      await this.log(now, source, bytes, n, true, 'status_code_mismatch', disagreement);
      return {
        status: 400,
        body: { error: `${disagreement}; nothing applied`, outcome: 'status_code_mismatch' },
      };
    }
    try {
      parseGrossAmountIdr(n.gross_amount);
    } catch (err) {
      await this.log(now, source, bytes, n, true, 'malformed', (err as Error).message);
      return { status: 400, body: { error: `gross_amount: ${(err as Error).message}` } };
    }
    const known = await one<{ order_id: string }>(
      this.orm.em.fork(),
      'select order_id from payment_orders where order_id = ?',
      [n.order_id],
    );
    if (!known) {
      await this.log(now, source, bytes, n, true, 'unknown_order', `no payment order ${n.order_id}`);
      return { status: 404, body: { error: `unknown order_id ${n.order_id}; logged` } };
    }
    // A notification only says "look": the status API's answer is what gets booked. A poll already is it.
    let s: MidtransNotification = n;
    let note: string | undefined;
    if (source === 'notification') {
      const confirmed = await this.confirm(n);
      if ('answer' in confirmed) {
        await this.log(now, source, bytes, n, true, confirmed.outcome, confirmed.reason);
        return confirmed.answer;
      }
      s = confirmed.status;
      if (s.transaction_status !== n.transaction_status || s.gross_amount !== n.gross_amount) {
        note = `notification said ${n.transaction_status} ${n.gross_amount}, the status API says ${s.transaction_status} ${s.gross_amount}; the status API is applied`;
        this.logger.warn(
          {
            event: 'midtrans_status_disagrees',
            order_id: n.order_id,
            notification_status: n.transaction_status,
            status_api_status: s.transaction_status,
          },
          'Midtrans notification disagrees with the status API; applying the status API',
        );
      }
    }
    let gross: bigint;
    try {
      gross = parseGrossAmountIdr(s.gross_amount);
    } catch (err) {
      await this.log(
        now,
        source,
        bytes,
        n,
        true,
        'status_invalid',
        `status API gross_amount: ${(err as Error).message}`,
      );
      return { status: 502, body: { error: `status API gross_amount: ${(err as Error).message}` } };
    }
    const answer = await tx(
      this.orm,
      async (em): Promise<NotificationAnswer & { outcome: MidtransOutcome; reason?: string }> => {
        const order = await one<OrderRow>(em, 'select * from payment_orders where order_id = ? for update', [
          s.order_id,
        ]);
        if (!order) throw new Error(`payment order ${s.order_id} vanished`);
        // One Midtrans transaction books money once: refused before anything changes.
        const booked = await one<{ provider_order_id: string | null; invoice_id: string }>(
          em,
          'select provider_order_id, invoice_id from payments where provider_transaction_id = ?',
          [s.transaction_id],
        );
        if (booked && booked.provider_order_id !== s.order_id)
          return {
            status: 409,
            outcome: 'duplicate_transaction',
            reason: `transaction_id ${s.transaction_id} already paid invoice ${booked.invoice_id} for order ${booked.provider_order_id ?? '(none)'}`,
            body: {
              error: `transaction_id ${s.transaction_id} is already booked for another order; nothing applied`,
              outcome: 'duplicate_transaction',
            },
          };
        const inv = await one<{
          status: 'unpaid' | 'overdue' | 'paid' | 'cancelled';
          amount_idr: string;
          credit_idr: string;
        }>(em, 'select status, amount_idr, credit_idr from invoices where id = ? for update', [
          order.invoice_id,
        ]);
        if (!inv) throw new Error(`invoice ${order.invoice_id} of order ${s.order_id} missing`);
        const paidBy = await one<{ provider_order_id: string | null }>(
          em,
          'select provider_order_id from payments where invoice_id = ? order by id limit 1',
          [order.invoice_id],
        );
        const decision = decideNotification(
          {
            attemptStatus: order.status,
            invoiceStatus: inv.status,
            invoiceAmountIdr: BigInt(inv.amount_idr) - BigInt(inv.credit_idr),
            invoicePaidByOrderId: paidBy?.provider_order_id ?? null,
          },
          {
            orderId: s.order_id,
            transactionStatus: s.transaction_status,
            ...(s.fraud_status ? { fraudStatus: s.fraud_status } : {}),
            grossAmountIdr: gross,
          },
        );
        let outcome: MidtransOutcome = decision.outcome;
        if (decision.action === 'pay_invoice') {
          const paid = await this.invoices.applyPayment(
            order.invoice_id,
            {
              method: 'midtrans',
              amountIdr: gross,
              providerOrderId: s.order_id,
              providerTransactionId: s.transaction_id,
              paymentType: s.payment_type ?? null,
              raw: n,
              providerStatus: s,
              receivedAt: now,
              actor: 'midtrans',
            },
            em,
          );
          if (!paid.applied) {
            // Nothing was booked, so the order keeps its state: no order 'paid' beside an unpaid invoice.
            outcome =
              paid.reason === 'duplicate_transaction' || paid.reason === 'already_paid'
                ? 'duplicate'
                : paid.reason === 'cancelled'
                  ? 'paid_cancelled_invoice'
                  : 'amount_mismatch';
            return {
              status: outcome === 'amount_mismatch' ? 422 : 200,
              outcome,
              reason: paid.reason,
              body:
                outcome === 'amount_mismatch'
                  ? {
                      error: `gross_amount ${s.gross_amount} does not match the amount due; nothing applied`,
                      outcome,
                    }
                  : { status: 'ok', outcome },
            };
          }
        } else if (decision.action !== 'none') {
          await audit(em, now, {
            actor: 'midtrans',
            entity: 'invoices',
            entityId: order.invoice_id,
            action: `midtrans_${decision.action}`,
            reason: decision.reason ?? decision.outcome,
            detail: { order_id: s.order_id, transaction_status: s.transaction_status },
          });
        }
        await exec(
          em,
          'update payment_orders set status = ?, provider_status = ?::jsonb, updated_at = ?, last_checked_at = ? where order_id = ?',
          [decision.attemptStatus, JSON.stringify(s), now, now, s.order_id],
        );
        const status = outcome === 'amount_mismatch' ? 422 : 200;
        const reason = [decision.reason, note].filter(Boolean).join('; ');
        return {
          status,
          outcome,
          ...(reason ? { reason } : {}),
          body:
            status === 200
              ? { status: 'ok', outcome, ...(note ? { note } : {}) }
              : {
                  error: `gross_amount ${s.gross_amount} does not match the amount due; nothing applied`,
                  outcome,
                },
        };
      },
    );
    await this.log(now, source, bytes, n, true, answer.outcome, answer.reason);
    if (answer.outcome === 'paid')
      this.logger.info(
        { event: 'midtrans_paid', order_id: s.order_id, source },
        'invoice paid through Midtrans',
      );
    return { status: answer.status, body: answer.body };
  }

  private async log(
    now: Date,
    source: 'notification' | 'poll',
    bytes: Buffer,
    n: { order_id?: string; transaction_status?: string } | undefined,
    signatureValid: boolean,
    outcome: MidtransOutcome,
    reason?: string,
  ): Promise<void> {
    this.metrics.midtransNotifications.inc({ outcome });
    if (outcome !== 'paid' && outcome !== 'pending')
      this.logger.warn(
        { event: 'midtrans_notification', source, order_id: n?.order_id, outcome, reason },
        `Midtrans ${source}: ${outcome}`,
      );
    const kept = bytes.subarray(0, 65_536);
    // `text` holds neither NUL nor invalid UTF-8: those bodies keep their exact bytes beside a readable copy.
    const text = kept.toString('utf8');
    const exact = text.includes('\0') || !Buffer.from(text, 'utf8').equals(kept);
    await exec(
      this.orm.em.fork(),
      'insert into midtrans_notifications (received_at, source, order_id, transaction_status, signature_valid, outcome, reason, raw, raw_bytes) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        now,
        source,
        n?.order_id ?? null,
        n?.transaction_status ?? null,
        signatureValid,
        outcome,
        reason ?? null,
        text.replaceAll('\0', '\\u0000'),
        exact ? kept : null,
      ],
    );
  }

  /** Asks Midtrans about orders whose outcome never arrived (notification lost, endpoint down). */
  async pollPending(
    now: Date,
    olderThanMs = 5 * 60_000,
  ): Promise<{ checked: number; outcomes: Record<string, number> }> {
    if (!this.gateway) return { checked: 0, outcomes: {} };
    const orders = await q<{ order_id: string }>(
      this.orm.em.fork(),
      `select order_id from payment_orders
        where status in ('created', 'pending', 'challenge') and created_at <= ? and expires_at > ?::timestamptz - interval '1 day'
          and (last_checked_at is null or last_checked_at <= ?)
        order by created_at limit 200`,
      [new Date(now.getTime() - olderThanMs), now, new Date(now.getTime() - olderThanMs)],
    );
    const outcomes: Record<string, number> = {};
    for (const { order_id } of orders) {
      try {
        const status = await this.gateway.status(order_id);
        const r = await this.apply(status, Buffer.from(JSON.stringify(status), 'utf8'), now, 'poll');
        const key = String(r.body.outcome ?? r.status);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      } catch (err) {
        const msg = (err as Error).message;
        outcomes.error = (outcomes.error ?? 0) + 1;
        this.logger.warn(
          { event: 'midtrans_poll_failed', order_id, error: msg },
          'Midtrans status poll failed',
        );
      }
      await exec(this.orm.em.fork(), 'update payment_orders set last_checked_at = ? where order_id = ?', [
        now,
        order_id,
      ]);
    }
    return { checked: orders.length, outcomes };
  }
}

export type { Em };
