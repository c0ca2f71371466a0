// What the isolation page shows, from plain rows: a suspended subscriber their overdue invoices, a
// restored one that they are back, everyone else the same neutral page.
import { identify, pageFor, payableInvoice, type SubscriberRow } from '../../src/portal/page.js';
import { renderPortalPage } from '../../src/portal/render.js';

const now = new Date('2026-03-09T03:00:00Z');
const budi: SubscriberRow = {
  id: '7',
  status: 'suspended',
  customer_name: 'Budi Santoso',
  plan_name: 'Home 10 Mbps',
  restored_at: null,
};
const overdue = [
  {
    id: '31',
    number: 'INV-2026-000031',
    description: 'Home 10 Mbps',
    period_start: new Date('2026-02-28T17:00:00Z'),
    period_end: new Date('2026-03-30T17:00:00Z'),
    due_at: new Date('2026-03-03T17:00:00Z'),
    amount_idr: '150000',
    credit_idr: '0',
  },
  {
    id: '35',
    number: 'INV-2026-000035',
    description: 'Static IP',
    period_start: null,
    period_end: null,
    due_at: new Date('2026-03-05T17:00:00Z'),
    amount_idr: '9007199254741993',
    credit_idr: '1000',
  },
];

describe('identifying the subscriber', () => {
  it('names the one live subscription holding the address', () => {
    expect(identify([budi])).toEqual({ subscriber: budi });
    expect(identify([{ ...budi, id: '6', status: 'cancelled' }, budi])).toEqual({ subscriber: budi });
  });

  it('names nobody for no match or for two live matches', () => {
    expect(identify([])).toEqual({ outcome: 'unknown' });
    expect(identify([budi, { ...budi, id: '8', customer_name: 'Siti' }])).toEqual({ outcome: 'ambiguous' });
  });
});

describe('the page for a subscriber', () => {
  it('lists a suspended subscriber’s overdue invoices and sums them exactly, past 2^53', () => {
    const { page, outcome } = pageFor(budi, overdue, now);
    expect(outcome).toBe('suspended');
    if (page.kind !== 'suspended') throw new Error(page.kind);
    expect(page.invoices.map((i) => [i.number, i.dueIdr])).toEqual([
      ['INV-2026-000031', 150_000n],
      ['INV-2026-000035', 9_007_199_254_740_993n],
    ]);
    expect(page.totalIdr).toBe(9_007_199_254_890_993n);
  });

  it('tells a subscriber restored within a day, and is neutral after that', () => {
    const restored = { ...budi, status: 'active' as const, restored_at: new Date(now.getTime() - 3_600_000) };
    expect(pageFor(restored, [], now)).toMatchObject({ outcome: 'restored', page: { kind: 'restored' } });
    const longAgo = { ...restored, restored_at: new Date(now.getTime() - 25 * 3_600_000) };
    expect(pageFor(longAgo, [], now)).toEqual({ outcome: 'not_suspended', page: { kind: 'neutral' } });
  });

  it('is neutral for an active, never suspended or expired subscriber', () => {
    expect(pageFor({ ...budi, status: 'active' }, [], now).page).toEqual({ kind: 'neutral' });
    expect(pageFor({ ...budi, status: 'expired' }, [], now).page).toEqual({ kind: 'neutral' });
  });

  it('offers only the invoices on the page for payment', () => {
    const { page } = pageFor(budi, overdue, now);
    expect(payableInvoice(page, '31')?.number).toBe('INV-2026-000031');
    expect(payableInvoice(page, '32')).toBeUndefined();
    expect(payableInvoice({ kind: 'neutral' }, '31')).toBeUndefined();
  });
});

describe('the rendered page', () => {
  const base = {
    provider: { name: 'NetKita', phone: '+62 21 555 0100' },
    timeZone: 'Asia/Jakarta',
    selfPath: '/portal',
    payAction: '/portal/pay',
  };

  it('is Indonesian by default, with rupiah, Jakarta dates and a switch to English', () => {
    const html = renderPortalPage(pageFor(budi, overdue, now).page, { ...base, lang: 'id' });
    expect(html).toContain('<html lang="id">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('Layanan internet Anda sedang diisolir');
    expect(html).toContain('Rp 150.000');
    expect(html).toContain('Rp 9.007.199.254.890.993');
    expect(html).toContain('1 Maret 2026 – 30 Maret 2026');
    expect(html).toContain('4 Maret 2026'); // due 17:00 UTC on the 3rd is the 4th in Jakarta
    expect(html).toContain('href="/portal?lang=en"');
    expect(html).not.toMatch(/(src|href)="https?:/); // no external assets
  });

  it('is English when asked, and escapes what subscribers and staff typed', () => {
    const html = renderPortalPage(
      pageFor({ ...budi, customer_name: '<script>alert(1)</script>' }, overdue, now).page,
      { ...base, lang: 'en' },
    );
    expect(html).toContain('Your internet service is suspended');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('shows the neutral page without a name or an amount', () => {
    const html = renderPortalPage({ kind: 'neutral' }, { ...base, lang: 'id' });
    expect(html).toContain('Tidak ada tagihan untuk ditampilkan');
    expect(html).not.toContain('Rp ');
    expect(html).not.toContain('id="customer"');
  });
});
