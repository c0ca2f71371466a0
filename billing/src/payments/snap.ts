// Midtrans through the official midtrans-client: Snap transactions and the Core API status call.
// Base URLs can be overridden on the instance (sandbox proxies, the loopback fake in tests); errors are
// rewrapped with Midtrans's own messages only: midtrans-client's errors carry the raw HTTP exchange,
// including the server key in its auth header, and must never reach a log.
import midtrans, { type CoreApi, type Snap } from 'midtrans-client';
import { notificationSchema, nulPath, type MidtransNotification } from './notification.js';

export interface SnapItem {
  id: string;
  name: string;
  priceIdr: bigint;
  quantity: number;
}

export interface SnapRequest {
  orderId: string;
  grossAmountIdr: bigint;
  items: SnapItem[];
  customer: { firstName: string; lastName?: string; email?: string; phone?: string };
  expiryMinutes: number;
  startTime: Date;
  finishUrl?: string;
}

export class MidtransApiError extends Error {
  constructor(
    message: string,
    readonly httpStatusCode: number | undefined,
    readonly messages: string[],
  ) {
    super(message);
    this.name = 'MidtransApiError';
  }
}

/** Midtrans wants "yyyy-MM-dd HH:mm:ss +0700". */
export function midtransTime(d: Date): string {
  const wib = new Date(d.getTime() + 7 * 3_600_000);
  return `${wib.toISOString().slice(0, 19).replace('T', ' ')} +0700`;
}

function safeInt(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`${what} too large`);
  return Number(v);
}

export class MidtransGateway {
  private readonly snap: Snap;
  private readonly core: CoreApi;

  constructor(o: {
    serverKey: string;
    clientKey?: string;
    isProduction: boolean;
    snapBaseUrl?: string;
    coreBaseUrl?: string;
    timeoutMs?: number;
  }) {
    const options = { isProduction: o.isProduction, serverKey: o.serverKey, clientKey: o.clientKey ?? '' };
    this.snap = new midtrans.Snap(options);
    this.core = new midtrans.CoreApi(options);
    if (o.snapBaseUrl) {
      const base = o.snapBaseUrl.replace(/\/$/, '');
      this.snap.apiConfig.getSnapApiBaseUrl = () => base;
    }
    if (o.coreBaseUrl) {
      const base = o.coreBaseUrl.replace(/\/$/, '');
      this.core.apiConfig.getCoreApiBaseUrl = () => base;
    }
    this.snap.httpClient.http_client.defaults.timeout = o.timeoutMs ?? 15_000;
    this.core.httpClient.http_client.defaults.timeout = o.timeoutMs ?? 15_000;
  }

  async createSnapTransaction(r: SnapRequest): Promise<{ token: string; redirectUrl: string }> {
    const sum = r.items.reduce((acc, i) => acc + i.priceIdr * BigInt(i.quantity), 0n);
    if (sum !== r.grossAmountIdr)
      throw new Error(`item_details sum to ${sum} but gross_amount is ${r.grossAmountIdr}`);
    const body = {
      transaction_details: { order_id: r.orderId, gross_amount: safeInt(r.grossAmountIdr, 'gross_amount') },
      item_details: r.items.map((i) => ({
        id: i.id.slice(0, 50),
        name: i.name.slice(0, 50),
        price: safeInt(i.priceIdr, 'price'),
        quantity: i.quantity,
      })),
      customer_details: {
        first_name: r.customer.firstName.slice(0, 255),
        ...(r.customer.lastName ? { last_name: r.customer.lastName.slice(0, 255) } : {}),
        ...(r.customer.email ? { email: r.customer.email } : {}),
        ...(r.customer.phone ? { phone: r.customer.phone } : {}),
      },
      expiry: { start_time: midtransTime(r.startTime), unit: 'minute', duration: r.expiryMinutes },
      ...(r.finishUrl ? { callbacks: { finish: r.finishUrl } } : {}),
    };
    try {
      const res = await this.snap.createTransaction(body);
      return { token: res.token, redirectUrl: res.redirect_url };
    } catch (err) {
      throw rewrap(err, 'Snap createTransaction');
    }
  }

  /** GET /v2/{order_id}/status, parsed like a notification (Midtrans signs both the same way). */
  async status(orderId: string): Promise<MidtransNotification> {
    let raw: Record<string, unknown>;
    try {
      raw = await this.core.transaction.status(orderId);
    } catch (err) {
      throw rewrap(err, `status of ${orderId}`);
    }
    const nul = nulPath(raw);
    if (nul)
      throw new MidtransApiError(`status of ${orderId}: ${nul} contains a NUL character`, undefined, []);
    const parsed = notificationSchema.safeParse(raw);
    if (!parsed.success)
      throw new MidtransApiError(
        `status of ${orderId}: unexpected answer (${parsed.error.issues[0]?.path.join('.')})`,
        undefined,
        [],
      );
    return parsed.data;
  }
}

function rewrap(err: unknown, what: string): Error {
  const e = err as {
    httpStatusCode?: number | string;
    ApiResponse?: { error_messages?: string[]; status_message?: string };
    message?: string;
    code?: string;
  };
  const messages =
    e.ApiResponse?.error_messages ?? (e.ApiResponse?.status_message ? [e.ApiResponse.status_message] : []);
  const status =
    e.httpStatusCode === undefined || e.httpStatusCode === null ? undefined : Number(e.httpStatusCode);
  if (status === undefined && !messages.length)
    return new MidtransApiError(
      `${what}: Midtrans unreachable (${e.code ?? 'network error'})`,
      undefined,
      [],
    );
  return new MidtransApiError(
    `${what}: HTTP ${status ?? '?'}: ${messages.join('; ') || 'error'}`,
    status,
    messages,
  );
}
