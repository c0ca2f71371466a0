// Midtrans Snap payments: one order per attempt for an invoice, the HTTP notification endpoint and the
// status poll. Every notification is stored raw first (its own transaction), then judged by the pure
// state machine (payments/midtrans.ts) and applied under row locks on the order and the invoice, so
// duplicates and concurrent deliveries pay an invoice once.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { ApiError, audit, notFound, one, q, tx, type Em } from '../db/sql.js';
import type { InvoiceService } from '../invoices.js';
import type { BillingMetrics } from '../metrics.js';
import type { BillingPolicy } from '../policy.js';
import {
  decideNotification,
  notificationSchema,
  parseGrossAmountIdr,
  verifyNotificationSignature,
  type PaymentAttemptStatus,
} from './notification.js';
import type { MidtransGateway } from './snap.js';

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
  async createSnap(invoiceId: string, actor: string, now: Date): Promise<Record<string, unknown>> {
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
      await em.execute(
        "insert into payment_orders (order_id, invoice_id, gross_amount_idr, status, created_at, expires_at, updated_at) values (?, ?, ?, 'created', ?, ?, ?)",
        [orderId, invoiceId, gross.toString(), now, expiresAt, now],
        'run',
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
      });
    } catch (err) {
      await this.orm.em
        .fork()
        .execute(
          "update payment_orders set status = 'failed', updated_at = ? where order_id = ?",
          [now, orderId],
          'run',
        );
      this.logger.warn(
        { event: 'midtrans_create_failed', order_id: orderId, error: (err as Error).message },
        'Midtrans Snap transaction failed',
      );
      throw new ApiError(502, `Midtrans refused the transaction: ${(err as Error).message}`);
    }
    await this.orm.em
      .fork()
      .execute(
        "update payment_orders set snap_token = ?, redirect_url = ?, status = 'pending', updated_at = ? where order_id = ?",
        [snap.token, snap.redirectUrl, now, orderId],
        'run',
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

  /** The notification endpoint. Answers: 200 applied/ignored, 400 malformed, 401 bad signature,
   * 404 unknown order, 422 amount mismatch; 503 when the database is down (Midtrans retries). */
  async handleNotification(raw: string, now: Date): Promise<NotificationAnswer> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const result = parsed === undefined ? undefined : notificationSchema.safeParse(parsed);
    if (!result?.success) {
      const issue = result?.error.issues[0];
      const reason = result
        ? `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`
        : 'body is not JSON';
      await this.log(now, 'notification', raw, undefined, false, 'malformed', reason);
      return { status: 400, body: { error: `invalid Midtrans notification: ${reason}` } };
    }
    return this.apply(result.data, raw, now, 'notification');
  }

  private async apply(
    n: z.infer<typeof notificationSchema>,
    raw: string,
    now: Date,
    source: 'notification' | 'poll',
  ): Promise<NotificationAnswer> {
    const signatureOk = this.serverKey !== undefined && verifyNotificationSignature(n, this.serverKey);
    if (!signatureOk) {
      await this.log(
        now,
        source,
        raw,
        n,
        false,
        'invalid_signature',
        'signature_key does not match order_id + status_code + gross_amount + server key',
      );
      return { status: 401, body: { error: 'signature_key does not verify; nothing applied' } };
    }
    let gross: bigint;
    try {
      gross = parseGrossAmountIdr(n.gross_amount);
    } catch (err) {
      await this.log(now, source, raw, n, true, 'malformed', (err as Error).message);
      return { status: 400, body: { error: `gross_amount: ${(err as Error).message}` } };
    }
    const answer = await tx(
      this.orm,
      async (em): Promise<NotificationAnswer & { outcome: string; reason?: string }> => {
        const order = await one<OrderRow>(em, 'select * from payment_orders where order_id = ? for update', [
          n.order_id,
        ]);
        if (!order)
          return {
            status: 404,
            outcome: 'unknown_order',
            reason: `no payment order ${n.order_id}`,
            body: { error: `unknown order_id ${n.order_id}; logged` },
          };
        const inv = await one<{
          status: 'unpaid' | 'overdue' | 'paid' | 'cancelled';
          amount_idr: string;
          credit_idr: string;
        }>(em, 'select status, amount_idr, credit_idr from invoices where id = ? for update', [
          order.invoice_id,
        ]);
        if (!inv) throw new Error(`invoice ${order.invoice_id} of order ${n.order_id} missing`);
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
            orderId: n.order_id,
            transactionStatus: n.transaction_status,
            ...(n.fraud_status ? { fraudStatus: n.fraud_status } : {}),
            grossAmountIdr: gross,
          },
        );
        if (decision.attemptStatus !== order.status)
          await em.execute(
            'update payment_orders set status = ?, updated_at = ?, last_checked_at = ? where order_id = ?',
            [decision.attemptStatus, now, now, n.order_id],
            'run',
          );
        let outcome = decision.outcome;
        if (decision.action === 'pay_invoice') {
          const paid = await this.invoices.applyPayment(
            order.invoice_id,
            {
              method: 'midtrans',
              amountIdr: gross,
              providerOrderId: n.order_id,
              providerTransactionId: n.transaction_id,
              paymentType: n.payment_type ?? null,
              raw: n,
              receivedAt: now,
              actor: 'midtrans',
            },
            em,
          );
          if (!paid.applied)
            outcome =
              paid.reason === 'duplicate_transaction' || paid.reason === 'already_paid'
                ? 'duplicate'
                : paid.reason === 'cancelled'
                  ? 'paid_cancelled_invoice'
                  : 'amount_mismatch';
        } else if (decision.action !== 'none') {
          await audit(em, now, {
            actor: 'midtrans',
            entity: 'invoices',
            entityId: order.invoice_id,
            action: `midtrans_${decision.action}`,
            reason: decision.reason ?? decision.outcome,
            detail: { order_id: n.order_id, transaction_status: n.transaction_status },
          });
        }
        const status = outcome === 'amount_mismatch' ? 422 : 200;
        return {
          status,
          outcome,
          ...(decision.reason ? { reason: decision.reason } : {}),
          body:
            status === 200
              ? { status: 'ok', outcome }
              : {
                  error: `gross_amount ${n.gross_amount} does not match the amount due; nothing applied`,
                  outcome,
                },
        };
      },
    );
    await this.log(now, source, raw, n, true, answer.outcome, answer.reason);
    if (answer.outcome === 'paid')
      this.logger.info(
        { event: 'midtrans_paid', order_id: n.order_id, source },
        'invoice paid through Midtrans',
      );
    return { status: answer.status, body: answer.body };
  }

  private async log(
    now: Date,
    source: 'notification' | 'poll',
    raw: string,
    n: { order_id?: string; transaction_status?: string } | undefined,
    signatureValid: boolean,
    outcome: string,
    reason?: string,
  ): Promise<void> {
    this.metrics.midtransNotifications.inc({ outcome });
    if (outcome !== 'paid' && outcome !== 'pending')
      this.logger.warn(
        { event: 'midtrans_notification', source, order_id: n?.order_id, outcome, reason },
        `Midtrans ${source}: ${outcome}`,
      );
    await this.orm.em
      .fork()
      .execute(
        'insert into midtrans_notifications (received_at, source, order_id, transaction_status, signature_valid, outcome, reason, raw) values (?, ?, ?, ?, ?, ?, ?, ?)',
        [
          now,
          source,
          n?.order_id ?? null,
          n?.transaction_status ?? null,
          signatureValid,
          outcome,
          reason ?? null,
          raw.slice(0, 65_536),
        ],
        'run',
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
        const r = await this.apply(status, JSON.stringify(status), now, 'poll');
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
      await this.orm.em
        .fork()
        .execute('update payment_orders set last_checked_at = ? where order_id = ?', [now, order_id], 'run');
    }
    return { checked: orders.length, outcomes };
  }
}

export type { Em };
