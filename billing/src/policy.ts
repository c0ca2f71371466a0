// Billing policy (from configuration) and the pure decisions that use it. The billing cycle applies
// the same rules set-based in SQL (cycle.ts); these functions are what a single payment or a single
// subscription is judged by, and what the rules mean in words.
import { z } from 'zod';
import type { BackoffPolicy } from '@ispmon/service-kit';

/** An IANA time zone name that this Node.js knows (its Intl data decides). */
export const timeZoneSchema = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Jakarta');

export const billingPolicySchema = z.strictObject({
  /** Renewal invoices are issued this many days before the period ends; they fall due when it ends. */
  renew_days_before: z.number().int().min(0).max(60).default(7),
  /** Days after the due date before an unpaid invoice counts as overdue. */
  grace_days: z.number().int().min(0).max(60).default(3),
  /** First invoice of a new subscription falls due this many days after the period starts. */
  first_invoice_due_days: z.number().int().min(0).max(60).default(3),
  /** Suspend subscriptions with overdue invoices (customers marked suspension_exempt never are). */
  suspend_overdue: z.boolean().default(true),
  /** Invoice numbers: `<prefix>-<year>-<000001>`, one gap-free series per year (in `time_zone`). */
  invoice_prefix: z
    .string()
    .regex(/^[A-Z0-9-]{1,12}$/)
    .default('INV'),
  time_zone: z.string().default('Asia/Jakarta'),
  /** Midtrans Snap payment window. */
  payment_expiry_minutes: z.number().int().min(5).max(10080).default(1440),
});
export type BillingPolicy = z.infer<typeof billingPolicySchema>;

export type SubscriptionStatus = 'active' | 'suspended' | 'expired' | 'cancelled';
export type Isolation = 'profile' | 'disable';

/** What the router should hold for a subscription in a given state. */
export function desiredRouterState(
  status: SubscriptionStatus,
  plan: { profile: string; isolation: Isolation; isolationProfile: string | null },
  routerIsolationProfile: string,
): { present: boolean; profile: string; disabled: boolean } {
  switch (status) {
    case 'active':
      return { present: true, profile: plan.profile, disabled: false };
    case 'suspended':
      return plan.isolation === 'disable'
        ? { present: true, profile: plan.profile, disabled: true }
        : { present: true, profile: plan.isolationProfile ?? routerIsolationProfile, disabled: false };
    case 'expired':
      return { present: true, profile: plan.profile, disabled: true };
    case 'cancelled':
      return { present: false, profile: plan.profile, disabled: true };
  }
}

/** Backoff for router retries: 5 s doubling to 10 min, ±20 % jitter (service-kit's `backoffDelay`). */
export const SYNC_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 600_000, jitter: 0.4 };

/** Year of `at` in the billing time zone: the invoice number series. */
export function invoiceSeries(policy: Pick<BillingPolicy, 'invoice_prefix' | 'time_zone'>, at: Date): string {
  const year = new Intl.DateTimeFormat('en', { timeZone: policy.time_zone, year: 'numeric' }).format(at);
  return `${policy.invoice_prefix}-${year}`;
}

export function formatInvoiceNumber(series: string, n: number): string {
  return `${series}-${String(n).padStart(6, '0')}`;
}

export const DAY_MS = 86_400_000;
