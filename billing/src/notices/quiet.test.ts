// Quiet hours and message text: pure functions, no server and no clock.
import { gatewayNumber } from './channels.js';
import { parseNoticeConfig } from './config.js';
import { formatIdr, loadTemplates, renderNotice } from './messages.js';
import { quietUntil } from './quiet.js';

const jakarta = { start: '21:00', end: '07:00', time_zone: 'Asia/Jakarta' };

describe('quietUntil', () => {
  it('holds a notice from 21:00 to 07:00 Jakarta time, across midnight', () => {
    expect(quietUntil(new Date('2026-03-02T13:59:59Z'), jakarta)).toBeUndefined(); // 20:59:59 WIB
    expect(quietUntil(new Date('2026-03-02T14:00:00Z'), jakarta)?.toISOString()).toBe(
      '2026-03-03T00:00:00.000Z',
    );
    expect(quietUntil(new Date('2026-03-02T18:30:15.250Z'), jakarta)?.toISOString()).toBe(
      '2026-03-03T00:00:00.000Z',
    );
    expect(quietUntil(new Date('2026-03-02T23:59:00Z'), jakarta)?.toISOString()).toBe(
      '2026-03-03T00:00:00.000Z',
    );
    expect(quietUntil(new Date('2026-03-03T00:00:00Z'), jakarta)).toBeUndefined(); // 07:00 WIB
  });

  it('handles a window within one day, an empty window and none', () => {
    const lunch = { start: '12:00', end: '13:00', time_zone: 'UTC' };
    expect(quietUntil(new Date('2026-03-02T12:30:00Z'), lunch)?.toISOString()).toBe(
      '2026-03-02T13:00:00.000Z',
    );
    expect(quietUntil(new Date('2026-03-02T13:00:00Z'), lunch)).toBeUndefined();
    expect(quietUntil(new Date('2026-03-02T12:30:00Z'), { ...lunch, end: '12:00' })).toBeUndefined();
    expect(quietUntil(new Date('2026-03-02T22:00:00Z'), null)).toBeUndefined();
  });
});

describe('notice configuration', () => {
  it('has working defaults and names the field of a mistake', () => {
    const c = parseNoticeConfig({}, 'test');
    expect(c).toMatchObject({
      default_language: 'id',
      reminder_days_before: [3],
      quiet_hours: { start: '21:00' },
    });
    expect(() => parseNoticeConfig({ quiet_hours: { start: '25:00', end: '07:00' } }, 'notices.yml')).toThrow(
      'notices.yml: quiet_hours.start: a local time like 21:00',
    );
    expect(() => parseNoticeConfig({ whatsapp: { url: 'ftp://x' } }, 'notices.yml')).toThrow(/whatsapp\.url/);
    expect(() => parseNoticeConfig({ sms: { url: 'https://gw.example', body: {} } }, 'n')).toThrow(
      'n: sms.body: needs at least one field',
    );
  });
});

describe('notice text', () => {
  const templates = loadTemplates();
  const base = {
    provider: 'NetLab ISP',
    customer: 'Budi Santoso',
    plan: 'Home 20 Mbps',
    invoice: { number: 'INV-2026-000042', dueIdr: 175_000n, dueAt: new Date('2026-03-05T03:00:00Z') },
    days: null,
    overdueIdr: null,
    paymentLink: null,
    timeZone: 'Asia/Jakarta',
  };

  it('renders every event in Indonesian and English, title first, amounts as whole rupiah', () => {
    for (const language of ['id', 'en'] as const)
      for (const event of [
        'invoice_issued',
        'reminder',
        'overdue',
        'suspended',
        'paid',
        'restored',
      ] as const) {
        const text = renderNotice(templates, { ...base, event, language, days: 3 });
        expect(text.subject.length).toBeGreaterThan(10);
        expect(text.body).toContain('NetLab ISP');
        expect(text.body).not.toContain('{{');
      }
    const id = renderNotice(templates, { ...base, event: 'reminder', language: 'id', days: 3 });
    expect(id.subject).toBe('Pengingat: tagihan INV-2026-000042 jatuh tempo 3 hari lagi');
    expect(id.body).toContain('(Rp 175.000) jatuh tempo pada 5 Maret 2026');
    const en = renderNotice(templates, { ...base, event: 'reminder', language: 'en', days: 1 });
    expect(en.subject).toBe('Reminder: invoice INV-2026-000042 is due in 1 day');
    const suspended = renderNotice(templates, {
      ...base,
      event: 'suspended',
      language: 'en',
      overdueIdr: 350_000n,
      paymentLink: 'https://portal.example/p/7?sig=abc',
    });
    expect(suspended.body).toContain('for unpaid invoices (IDR 350,000)');
    expect(suspended.body).toContain('https://portal.example/p/7?sig=abc');
    expect(formatIdr(12_345_678_901_234_567n, 'id')).toBe('Rp 12.345.678.901.234.567');
    // A manual invoice has no plan: the sentence leaves it out.
    const manual = renderNotice(templates, { ...base, plan: null, event: 'invoice_issued', language: 'en' });
    expect(manual.body).toContain('invoice INV-2026-000042 is IDR 175,000, due 5 March 2026.');
  });

  it('turns national and formatted phone numbers into the digits gateways want', () => {
    expect(gatewayNumber('0812-3456-1001')).toBe('6281234561001');
    expect(gatewayNumber('+62 812 1111 2222')).toBe('6281211112222');
  });
});
