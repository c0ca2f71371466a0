// What the isolation page shows, decided from plain rows: pure, time is an argument. A page names its
// subscriber only when that subscriber is suspended (or was restored in the last day); everything else
// (no subscriber, several, active, expired) is one neutral page, so the answer says nothing of who exists.
export type SubscriptionStatus = 'active' | 'suspended' | 'expired' | 'cancelled';

export interface SubscriberRow {
  id: string;
  status: SubscriptionStatus;
  customer_name: string;
  plan_name: string;
  /** The last time billing restored this subscription (audit log), if ever. */
  restored_at: Date | null;
}

export interface OverdueInvoiceRow {
  id: string;
  number: string;
  description: string;
  period_start: Date | null;
  period_end: Date | null;
  due_at: Date;
  amount_idr: string;
  credit_idr: string;
}

export interface InvoiceLine {
  id: string;
  number: string;
  description: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  dueAt: Date;
  dueIdr: bigint;
}

export type PortalPage =
  | {
      kind: 'suspended';
      subscriptionId: string;
      customerName: string;
      planName: string;
      invoices: InvoiceLine[];
      totalIdr: bigint;
    }
  | { kind: 'restored'; subscriptionId: string; customerName: string; planName: string }
  | { kind: 'neutral' }
  | { kind: 'link_refused' }
  | { kind: 'rate_limited' };

/** Why a page was answered (the label of ispmon_billing_portal_page_views_total); never shown. */
export type PageOutcome =
  'suspended' | 'restored' | 'unknown' | 'ambiguous' | 'not_suspended' | 'link_refused' | 'rate_limited';

export const PAGE_OUTCOMES: readonly PageOutcome[] = [
  'suspended',
  'restored',
  'unknown',
  'ambiguous',
  'not_suspended',
  'link_refused',
  'rate_limited',
];

/** A restored subscriber who comes back to the page within this window is told so. */
export const RESTORED_SHOWN_MS = 24 * 3_600_000;

/** One subscriber, or none: an address shared by two live subscriptions (a data error) names neither. */
export function identify(
  matches: readonly SubscriberRow[],
): { subscriber: SubscriberRow } | { outcome: 'unknown' | 'ambiguous' } {
  const live = matches.filter((m) => m.status !== 'cancelled');
  if (live.length === 0) return { outcome: 'unknown' };
  if (live.length > 1) return { outcome: 'ambiguous' };
  return { subscriber: live[0] as SubscriberRow };
}

export function pageFor(
  sub: SubscriberRow,
  overdue: readonly OverdueInvoiceRow[],
  now: Date,
): { page: PortalPage; outcome: PageOutcome } {
  if (sub.status === 'suspended') {
    const invoices = overdue.map((i) => ({
      id: i.id,
      number: i.number,
      description: i.description,
      periodStart: i.period_start,
      periodEnd: i.period_end,
      dueAt: i.due_at,
      dueIdr: BigInt(i.amount_idr) - BigInt(i.credit_idr),
    }));
    return {
      outcome: 'suspended',
      page: {
        kind: 'suspended',
        subscriptionId: sub.id,
        customerName: sub.customer_name,
        planName: sub.plan_name,
        invoices,
        totalIdr: invoices.reduce((sum, i) => sum + i.dueIdr, 0n),
      },
    };
  }
  const restoredAgo = sub.restored_at ? now.getTime() - sub.restored_at.getTime() : Infinity;
  if (sub.status === 'active' && restoredAgo >= 0 && restoredAgo <= RESTORED_SHOWN_MS)
    return {
      outcome: 'restored',
      page: {
        kind: 'restored',
        subscriptionId: sub.id,
        customerName: sub.customer_name,
        planName: sub.plan_name,
      },
    };
  return { outcome: 'not_suspended', page: { kind: 'neutral' } };
}

/** The invoice a Pay button names, if the page offers it (an id from anywhere else is refused). */
export function payableInvoice(page: PortalPage, invoiceId: string): InvoiceLine | undefined {
  return page.kind === 'suspended' ? page.invoices.find((i) => i.id === invoiceId) : undefined;
}
