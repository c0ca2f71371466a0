// The SLA report's HTML, without a browser: figures, wording, escaping, charts and time zones.
import { dailyAvailabilityChart, latencyChart, lossChart, niceStep } from './charts.js';
import { formatDuration, formatIdr, renderReportHtml } from './render.js';
import { sampleReportContext, sampleSlaMonth } from './sample-report.js';

const text = (html: string): string =>
  html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<svg[\s\S]*?<\/svg>/g, '')
    .replace(/<\/?span[^>]*>/g, '') // inline: no word break
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
/** The y-axis labels of a chart, from the axis up. */
const tickLabels = (svg: string): string[] =>
  [...svg.matchAll(/text-anchor="end"[^>]*>([^<]+)</g)].map((m) => m[1] ?? '');

describe('SLA report HTML', () => {
  const html = renderReportHtml(sampleReportContext());

  it('names the client, the link and the period in the link’s time zone', () => {
    expect(html).toContain('PT Maju &amp; Jaya Sejahtera');
    expect(html).toContain('HQ Thamrin to DC Cikarang');
    expect(html).toContain('L-0042');
    expect(text(html)).toContain(
      'Service Level Report — April 2026 Period 01 Apr 2026 – 30 Apr 2026 (Asia/Jakarta)',
    );
    expect(text(html)).toContain('Generated 01 May 2026, 08:00 Asia/Jakarta');
  });

  it('sets commitments against achieved figures with met and breached', () => {
    const t = text(html);
    expect(t).toContain('Availability ≥ 99.95% 99.914% Breached'); // 43,043 / 43,080 counted minutes
    expect(t).toContain('Latency (monthly mean) ≤ 20 ms 13.10 ms (p95 12.00 ms) Met');
    expect(t).toContain('Packet loss ≤ 1% 0.186% Met');
    expect(t).toContain('Commitment breached: availability');
    expect(t).toContain('43,200 43,043 37 0 120 37 100.00%');
    expect(t).toContain('Availability = up / (up + counted down) = 43,043 / 43,080.');
  });

  it('states the credit owed in rupiah', () => {
    expect(text(html)).toContain(
      'Service credit owed: Rp 1.250.000 — 10% of the monthly fee of Rp 12.500.000, for April 2026.',
    );
  });

  it('lists the incident in local time and the maintenance that was excluded', () => {
    const t = text(html);
    expect(t).toContain('1 10 Apr 2026, 10:00 10 Apr 2026, 10:37 37 min');
    expect(t).toContain('21 Apr 2026, 01:00 21 Apr 2026, 03:00 2 h Core switch upgrade');
    expect(t).toContain('Planned maintenance (excluded)');
  });

  it('draws the daily availability, latency and loss charts as inline SVG with the logo', () => {
    expect(html.match(/<svg /g)).toHaveLength(4); // logo + three charts
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing loaded from anywhere
    const daily = dailyAvailabilityChart(sampleSlaMonth(), '#0a6e5c');
    expect(daily.match(/<rect /g)).toHaveLength(30);
    expect(daily).toContain('fill="#c0392b"'); // 10 April, under the commitment
    expect(daily).toContain('stroke-dasharray'); // the commitment line
    const latency = /<path d="([^"]+)"/.exec(latencyChart(sampleSlaMonth(), '#0a6e5c'))?.[1] ?? '';
    // One point per hour, flat runs drawn as one segment: 12 ms, the congested day at 45 ms, 12 ms again.
    expect(latency.match(/L/g)?.length).toBeLessThan(12);
    expect(latency).toMatch(/L690\.0 [\d.]+$/); // to the month's last hour
    expect(latency.match(/M/g)).toHaveLength(2); // broken by the two hours of maintenance
    expect(lossChart(sampleSlaMonth(), '#0a6e5c')).toContain('stroke-dasharray');
  });

  it('draws loss without the outage minutes, on round ticks that show the commitment line', () => {
    // The sample's 37 outage minutes lost 100 % of probes; the hour holding them must not spike the chart.
    const loss = lossChart(sampleSlaMonth(), '#0a6e5c');
    expect(tickLabels(loss)).toEqual(['0 %', '0.5 %', '1 %', '1.5 %']); // commitment 1 %, 0.1 % measured
    const latency = latencyChart(sampleSlaMonth(), '#0a6e5c');
    expect(tickLabels(latency)).toEqual(['0 ms', '20 ms', '40 ms', '60 ms']); // 45 ms congested day
    expect(tickLabels(dailyAvailabilityChart(sampleSlaMonth(), '#0a6e5c'))).toEqual([
      '96%',
      '97%',
      '98%',
      '99%',
      '100%',
    ]); // 10 April at 97.43 %
    expect(niceStep(46 * 1.1)).toBe(20);
    expect(niceStep(0.11)).toBe(0.05);
    expect(niceStep(4)).toBe(1);
    expect(niceStep(4.4)).toBe(2);
  });

  it('marks an incident that continues past the month and no-data minutes under either policy', () => {
    const base = sampleSlaMonth(0);
    const end = base.periodEnd.getTime();
    const gap = { start: new Date(end - 90 * 60_000), end: new Date(end - 30 * 60_000), durationMinutes: 60 };
    const down = {
      ...base,
      noDataPolicy: 'down' as const,
      minutes: { ...base.minutes, up: base.minutes.up - 90, down: 30, noData: 60 },
      // 60 unmeasured minutes counted down, then 30 measured down to the end of the month: one incident.
      incidents: [{ start: gap.start, end: new Date(end), durationMinutes: 90 }],
      noDataPeriods: [gap],
    };
    const t = text(renderReportHtml(sampleReportContext(down)));
    expect(t).toContain(
      '1 30 Apr 2026, 22:30 01 May 2026, 00:00 (period end) 1 h 30 min continues after the period; 1 h without measurements (counted as down)',
    );
    // The minutes table agrees with availability: counted down = 30 down + 60 without data.
    expect(t).toContain('43,200 42,990 30 60 120 90 100.00%');
    expect(t).toContain('= 42,990 / 43,080.');
    expect(t).toContain(
      'Periods without measurements (counted as down) Start (Asia/Jakarta) End Duration 30 Apr 2026, 22:30 30 Apr 2026, 23:30 1 h',
    );
    const excluded = text(
      renderReportHtml(sampleReportContext({ ...down, noDataPolicy: 'exclude', incidents: [] })),
    );
    expect(excluded).toContain('43,200 42,990 30 60 120 30 100.00%');
    expect(excluded).toContain(
      'Periods without measurements (excluded) Start (Asia/Jakarta) End Duration 30 Apr 2026, 22:30 30 Apr 2026, 23:30 1 h',
    );
  });

  it('escapes what a client typed into names and addresses', () => {
    const ctx = sampleReportContext();
    ctx.customer.name = 'PT Maju <script>alert(1)</script> "Jaya"';
    ctx.link.serviceAddress = '<img src=x onerror=alert(2)>';
    ctx.maintenance = [{ ...ctx.maintenance[0]!, reason: '</td><b>pwned</b>' }];
    const hostile = renderReportHtml(ctx);
    expect(hostile).toContain('PT Maju &lt;script&gt;alert(1)&lt;/script&gt; &quot;Jaya&quot;');
    expect(hostile).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
    expect(hostile).toContain('&lt;/td&gt;&lt;b&gt;pwned&lt;/b&gt;');
    expect(hostile).not.toMatch(/<script|<img src=x|<b>pwned/);
  });

  it('keeps a hostile accent colour out of the style sheet and the charts', () => {
    const ctx = sampleReportContext();
    ctx.provider.accentColor = 'red;}</style><script>alert(1)</script>';
    const hostile = renderReportHtml(ctx);
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('color: #1f5fa8'); // the default accent
  });

  it('says all met and owes nothing in a month without outages', () => {
    const t = text(renderReportHtml(sampleReportContext(sampleSlaMonth(0))));
    expect(t).toContain('All commitments met');
    expect(t).toContain('Availability ≥ 99.95% 100.000% Met');
    expect(t).toContain('Service credit owed: none (Rp 0)');
    expect(t).toContain('No outages in this period.');
    expect(t).not.toContain('Breached');
  });

  it('shows measures without a commitment and no verdict on them', () => {
    const sla = {
      ...sampleSlaMonth(0),
      commitments: { availabilityPercent: 99.5, latencyMs: null, lossPercent: null },
    };
    const t = text(renderReportHtml(sampleReportContext(sla)));
    expect(t).toContain('Latency (monthly mean) — 13.10 ms (p95 12.00 ms) No commitment');
    expect(t).toContain('Packet loss — 0.100% No commitment');
  });

  it('shows the UTC offset of every time in a month with a DST change', () => {
    const sla = {
      ...sampleSlaMonth(),
      month: '2026-10',
      timeZone: 'Europe/Berlin',
      periodStart: new Date('2026-09-30T22:00:00Z'),
      periodEnd: new Date('2026-10-31T23:00:00Z'),
      incidents: [
        // 02:30 twice on 25 October: first in summer time, then in winter time
        {
          start: new Date('2026-10-25T00:30:00Z'),
          end: new Date('2026-10-25T00:40:00Z'),
          durationMinutes: 10,
        },
        {
          start: new Date('2026-10-25T01:30:00Z'),
          end: new Date('2026-10-25T01:40:00Z'),
          durationMinutes: 10,
        },
      ],
    };
    const t = text(renderReportHtml({ ...sampleReportContext(sla), maintenance: [] }));
    expect(t).toContain('October 2026 Period 01 Oct 2026 – 31 Oct 2026 (Europe/Berlin)');
    expect(t).toContain('25 Oct 2026, 02:30 GMT+2');
    expect(t).toContain('25 Oct 2026, 02:30 GMT+1');
  });

  it('takes the logo as a data URL too', () => {
    const ctx = sampleReportContext();
    ctx.provider.logoSvg = 'data:image/png;base64,iVBORw0KGgo=';
    expect(renderReportHtml(ctx)).toContain('<img src="data:image/png;base64,iVBORw0KGgo&#x3D;" alt="">');
    ctx.provider.logoSvg = 'https://cdn.example/logo.svg';
    expect(renderReportHtml(ctx)).not.toContain('cdn.example');
  });
});

describe('report formats', () => {
  it('writes rupiah the Indonesian way', () => {
    expect(formatIdr(1_250_000n)).toBe('Rp 1.250.000');
    expect(formatIdr(0n)).toBe('Rp 0');
    expect(formatIdr(999n)).toBe('Rp 999');
    expect(formatIdr(12_345_678_901_234_567_890n)).toBe('Rp 12.345.678.901.234.567.890');
  });

  it('writes durations in days, hours and minutes', () => {
    expect(formatDuration(37)).toBe('37 min');
    expect(formatDuration(120)).toBe('2 h');
    expect(formatDuration(1_505)).toBe('1 d 1 h 5 min');
    expect(formatDuration(0)).toBe('0 min');
  });
});
