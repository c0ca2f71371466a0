// The SLA report rendered by Debian's Chromium: text checked with pdftotext, every page rasterised with
// pdftoppm and checked for ink, the renderer's concurrency, recycling and crash recovery.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeSlaMonth, monthBounds } from '../calc.js';
import type { SlaMonth } from '../types.js';
import { PdfRenderer } from './pdf.js';
import { renderReportHtml, type ReportContext } from './render.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const maybe = existsSync(chromium) ? describe : describe.skip;

export function sampleMonth(outageMinutes = 37): SlaMonth {
  const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
  const downFrom = new Date('2026-04-10T03:00:00Z').getTime();
  const series = (f: (s: number) => number): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    for (let s = start.getTime(); s < end.getTime(); s += 60_000) out.push([s / 1000 + 60, f(s)]);
    return out;
  };
  return computeSlaMonth({
    month: '2026-04',
    timeZone: 'Asia/Jakarta',
    availability: series((s) => (s >= downFrom && s < downFrom + outageMinutes * 60_000 ? 0 : 1)),
    latencyMeanSeconds: series((s) =>
      s > downFrom + 86_400_000 && s < downFrom + 2 * 86_400_000 ? 0.045 : 0.012,
    ),
    loss: series(() => 0.001),
    maintenance: [{ start: new Date('2026-04-20T18:00:00Z'), end: new Date('2026-04-20T20:00:00Z') }],
    noDataPolicy: 'exclude',
    commitments: { availabilityPercent: 99.95, latencyMs: 20, lossPercent: 1 },
    monthlyFeeIdr: 12_500_000n,
    creditPolicy: {
      tiers: [
        { belowAvailabilityPercent: 99.95, creditPercent: 10 },
        { belowAvailabilityPercent: 99.5, creditPercent: 25 },
      ],
      capPercent: 50,
    },
  });
}

export function sampleContext(sla = sampleMonth()): ReportContext {
  return {
    provider: {
      name: 'Nusantara Fiber',
      address: 'Jl. Sudirman 1, Jakarta',
      email: 'noc@nusantara.example',
      accentColor: '#0a6e5c',
      logoSvg:
        '<svg viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"><circle cx="5" cy="5" r="5" fill="#0a6e5c"/></svg>',
    },
    customer: { code: 'C-042', name: 'PT Maju <script>alert(1)</script> Jaya' },
    link: { code: 'L-0042', name: 'HQ to DC', bandwidth: '100 Mbps', serviceAddress: 'Jl. Thamrin 9' },
    sla,
    maintenance: [
      {
        start: new Date('2026-04-20T18:00:00Z'),
        end: new Date('2026-04-20T20:00:00Z'),
        reason: 'Core switch upgrade',
      },
    ],
    generatedAt: new Date('2026-05-01T01:00:00Z'),
  };
}

/** Share of pixels darker than near-white in a binary PGM (P5) image. */
export function inkRatio(pgm: Buffer): number {
  const header = pgm.subarray(0, 64).toString('latin1');
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(header);
  if (!m) throw new Error('not a PGM');
  const pixels = pgm.subarray(m[0].length);
  let ink = 0;
  for (const p of pixels) if (p < 230) ink += 1;
  return ink / pixels.length;
}

describe('SLA report HTML', () => {
  it('carries the figures, escapes what clients typed, and draws the charts', () => {
    const html = renderReportHtml(sampleContext());
    expect(html).toContain('PT Maju &lt;script&gt;alert(1)&lt;/script&gt; Jaya');
    expect(html).not.toContain('<script>');
    expect(html).toContain('99.914%'); // 43,043 / 43,080 counted minutes (2 h maintenance excluded)
    expect(html).toContain('Commitment breached: availability');
    expect(html).toContain('Rp 1.250.000'); // 10 % of Rp 12.500.000
    expect(html).toContain('10 Apr 2026, 10:00'); // the incident in Jakarta time
    expect(html).toContain('37 min');
    expect(html).toContain('Core switch upgrade');
    expect((html.match(/<svg /g) ?? []).length).toBe(4); // logo + three charts
  });

  it('says all met when nothing is breached', () => {
    expect(renderReportHtml(sampleContext(sampleMonth(0)))).toContain('All commitments met');
  });
});

maybe('SLA report PDF (Chromium)', () => {
  let renderer: PdfRenderer;
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-pdf-'));
  beforeAll(async () => {
    renderer = await PdfRenderer.start({ concurrency: 2 });
  }, 60_000);
  afterAll(async () => {
    await renderer?.close();
  });

  it('renders an A4 PDF whose text has the figures and whose every page has ink', async () => {
    const pdf = await renderer.render(renderReportHtml(sampleContext()), {
      footerLabel: 'L-0042 · April 2026',
    });
    const file = join(dir, 'report.pdf');
    writeFileSync(file, pdf);
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/);
    const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
    expect(pages).toBeGreaterThanOrEqual(2);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    for (const expected of [
      'Service Level Report',
      'PT Maju <script>alert(1)</script> Jaya',
      'L-0042',
      'April 2026',
      '99.914%',
      'Breached',
      'Rp 1.250.000',
      '10 Apr 2026, 10:00',
      '37 min',
      'Core switch upgrade',
      `Page 1 of ${pages}`,
      `Page ${pages} of ${pages}`,
    ])
      expect(text).toContain(expected);
    execFileSync('pdftoppm', ['-r', '30', '-gray', file, join(dir, 'page')]);
    const images = readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.pgm'));
    expect(images).toHaveLength(pages);
    for (const image of images) expect(inkRatio(readFileSync(join(dir, image)))).toBeGreaterThan(0.005);
  }, 60_000);

  it('renders several reports at once with bounded concurrency', async () => {
    const html = renderReportHtml(sampleContext());
    const pdfs = await Promise.all(Array.from({ length: 6 }, () => renderer.render(html)));
    for (const pdf of pdfs) expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  }, 60_000);

  it('recycles the browser after N pages and relaunches a browser that died', async () => {
    const small = await PdfRenderer.start({ recycleAfterPages: 2, concurrency: 1 });
    try {
      const html = renderReportHtml(sampleContext());
      for (let i = 0; i < 5; i++) await small.render(html);
      expect(small.stats().browserRestarts).toBeGreaterThanOrEqual(2);
      const pid = small.browserPid();
      if (pid) process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const pdf = await small.render(html);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await small.close();
    }
  }, 90_000);
});
