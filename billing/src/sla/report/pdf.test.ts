// The SLA report printed by Debian's Chromium: the PDF's text (pdftotext) carries the figures, every page
// rasterised by pdftoppm has ink on it, and the renderer bounds concurrency, recycles its browser and
// survives the browser dying.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { waitFor } from '@ispmon/testkit';
import { PdfRenderer, processTreeRssBytes } from './pdf.js';
import { renderReportHtml } from './render.js';
import { sampleReportContext } from './sample-report.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
/** Locally a missing Chromium skips the PDF checks, saying so; in CI (CI=true) it fails them. */
function chromiumDescribe(): jest.Describe {
  if (haveChromium) return describe;
  const missing = `no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true')
    return ((name: string) =>
      describe(name, () => {
        it('has Chromium', () => {
          throw new Error(missing);
        });
      })) as unknown as jest.Describe;
  console.warn(`SKIPPED: SLA report PDF tests — ${missing}`);
  return describe.skip;
}
const withChromium = chromiumDescribe();

/** Grey levels (0–255) of an 8-bit grey, RGB or RGBA PNG, decoded with zlib and the PNG row filters. */
export function pngGreyLevels(png: Buffer): { width: number; height: number; grey: Uint8Array } {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = data.subarray(8);
      channels = ({ 0: 1, 2: 3, 6: 4 } as Record<number, number>)[colour ?? -1] ?? 0;
      if (depth !== 8 || !channels || interlace !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (rows[y * stride + x - channels] as number) : 0;
      const b = y > 0 ? (rows[(y - 1) * stride + x] as number) : 0;
      const c = x >= channels && y > 0 ? (rows[(y - 1) * stride + x - channels] as number) : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter ?? 0];
      if (predictor === undefined) throw new Error(`unknown PNG filter ${filter} in row ${y}`);
      rows[y * stride + x] = ((line[x] as number) + predictor) & 0xff;
    }
  }
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    const px = rows.subarray(i * channels, i * channels + Math.min(channels, 3));
    grey[i] =
      channels === 1 ? (px[0] as number) : Math.round(0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!);
  }
  return { width, height, grey };
}

/** Share of pixels clearly darker than paper, and the spread of grey levels. */
function ink(png: Buffer): { share: number; stdDev: number } {
  const { grey } = pngGreyLevels(png);
  let dark = 0;
  let sum = 0;
  let squares = 0;
  for (const g of grey) {
    if (g < 200) dark += 1;
    sum += g;
    squares += g * g;
  }
  const mean = sum / grey.length;
  return { share: dark / grey.length, stdDev: Math.sqrt(squares / grey.length - mean * mean) };
}

describe('PNG reading for the page checks', () => {
  // A 60×40 RGB PNG, rows with filter 0 (the CRCs are not checked).
  const png = (row: (y: number) => number): Buffer => {
    const chunk = (type: string, data: Buffer): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(data.length, 0);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, data, Buffer.alloc(4)]);
    };
    const rows = Array.from({ length: 40 }, (_, y) =>
      Buffer.concat([Buffer.from([0]), Buffer.alloc(180, row(y))]),
    );
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', Buffer.from([0, 0, 0, 60, 0, 0, 0, 40, 8, 2, 0, 0, 0])),
      chunk('IDAT', deflateSync(Buffer.concat(rows))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  };

  it('tells a blank page from a page with ink', () => {
    expect(ink(png((y) => (y >= 10 && y < 20 ? 0 : 255))).share).toBeCloseTo(0.25);
    expect(ink(png(() => 255))).toEqual({ share: 0, stdDev: 0 });
  });
});

withChromium('SLA report PDF (Chromium)', () => {
  let renderer: PdfRenderer;
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-pdf-'));
  const html = renderReportHtml(sampleReportContext());
  const isPdf = (b: Buffer): boolean => b.subarray(0, 5).toString('latin1') === '%PDF-';

  beforeAll(async () => {
    renderer = await PdfRenderer.start({ concurrency: 2 });
  }, 60_000);
  afterAll(async () => {
    await renderer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints an A4 report whose text has the figures and page numbers', async () => {
    const file = join(dir, 'L-0042-2026-04.pdf');
    writeFileSync(
      file,
      await renderer.render(html, { footerLabel: 'Nusantara Fiber · L-0042 · April 2026' }),
    );
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/);
    const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
    expect(pages).toBeGreaterThanOrEqual(2);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    for (const expected of [
      'Nusantara Fiber',
      'Service Level Report',
      'PT Maju & Jaya Sejahtera',
      'HQ Thamrin to DC Cikarang (L-0042), 100 Mbps',
      'Service Level Report — April 2026',
      '01 Apr 2026 – 30 Apr 2026 (Asia/Jakarta)',
      '99.914%',
      'Breached',
      'Commitment breached: availability',
      'Service credit owed: Rp 1.250.000',
      'Rp 12.500.000',
      '10 Apr 2026, 10:00',
      '10 Apr 2026, 10:37',
      '37 min',
      'Core switch upgrade',
      'Availability per day',
      `Page 1 of ${pages}`,
      `Page ${pages} of ${pages}`,
      'Nusantara Fiber · L-0042 · April 2026',
    ])
      expect(text).toContain(expected);
  }, 60_000);

  it('states every commitment’s target, achieved figure and result, the credit and the period on page 1', async () => {
    const file = join(dir, 'first-page.pdf');
    writeFileSync(
      file,
      await renderer.render(html, { footerLabel: 'Nusantara Fiber · L-0042 · April 2026' }),
    );
    const page1 = execFileSync('pdftotext', ['-f', '1', '-l', '1', '-layout', file, '-'], {
      encoding: 'utf8',
    });
    const line = (start: string): string =>
      page1
        .split('\n')
        .map((l) => l.trim().replace(/\s+/g, ' '))
        .find((l) => l.startsWith(start)) ?? '';
    expect(line('Period')).toBe('Period 01 Apr 2026 – 30 Apr 2026 (Asia/Jakarta)');
    expect(line('Availability ≥')).toBe('Availability ≥ 99.95% 99.914% Breached');
    expect(line('Latency (monthly mean)')).toBe('Latency (monthly mean) ≤ 20 ms 13.10 ms (p95 12.00 ms) Met');
    expect(line('Packet loss')).toBe('Packet loss ≤ 1% 0.186% Met');
    expect(page1.replace(/\s+/g, ' ')).toContain(
      'Service credit owed: Rp 1.250.000 — 10% of the monthly fee of Rp 12.500.000, for April 2026.',
    );
    expect(page1).toContain('Commitment breached: availability');
    expect(page1).toMatch(/Page 1 of 2/);
  }, 60_000);

  it('prints no blank page', async () => {
    const file = join(dir, 'blank-check.pdf');
    writeFileSync(file, await renderer.render(html));
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
    execFileSync('pdftoppm', ['-r', '40', '-png', file, join(dir, 'page')]);
    const images = readdirSync(dir).filter((f) => /^page-\d+\.png$/.test(f));
    expect(images).toHaveLength(pages);
    for (const image of images) {
      const { share, stdDev } = ink(readFileSync(join(dir, image)));
      expect({ image, inked: share > 0.005 && stdDev > 10 }).toEqual({ image, inked: true });
    }
  }, 60_000);

  it('prints six reports at once, at most two at a time', async () => {
    const pdfs = await Promise.all(Array.from({ length: 6 }, () => renderer.render(html)));
    expect(pdfs.every(isPdf)).toBe(true);
    expect(renderer.stats().peakInFlight).toBe(2);
  }, 60_000);

  it('prints reports waiting for a slot in one document, split per report with its own page numbers', async () => {
    const one = await PdfRenderer.start({ concurrency: 1, batchSize: 4 });
    try {
      const codes = ['L-0101', 'L-0102', 'L-0103', 'L-0104', 'L-0105', 'L-0106'];
      const pdfs = await Promise.all(
        codes.map((code) => {
          const ctx = sampleReportContext();
          ctx.link.code = code;
          return one.render(renderReportHtml(ctx), { footerLabel: `Nusantara Fiber · ${code} · April 2026` });
        }),
      );
      // The first alone (the slot was free), then four together, then the last.
      expect(one.stats()).toMatchObject({ pagesRendered: 6, documentsPrinted: 3 });
      for (const [i, pdf] of pdfs.entries()) {
        const file = join(dir, `batch-${i}.pdf`);
        writeFileSync(file, pdf);
        const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
        expect(info).toMatch(/Pages:\s+2\n/);
        expect(info).toMatch(new RegExp(`Title:\\s+SLA report ${codes[i]} April 2026`));
        const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
        expect(new Set(text.match(/L-01\d\d/g))).toEqual(new Set([codes[i]]));
        expect(text.match(/Page \d of \d/g)).toEqual(['Page 1 of 2', 'Page 2 of 2']);
        expect(text).toContain(`Nusantara Fiber · ${codes[i]} · April 2026`);
        expect(pdf.includes('ispmon.invalid')).toBe(false); // the split markers are gone
      }
    } finally {
      await one.close();
    }
  }, 90_000);

  it('recycles the browser after N reports', async () => {
    const small = await PdfRenderer.start({ recycleAfterPages: 2, concurrency: 1, rendersPerPage: 1 });
    try {
      for (let i = 0; i < 5; i++) expect(isPdf(await small.render(html))).toBe(true);
      expect(small.stats()).toMatchObject({ pagesRendered: 5, browserRestarts: 2 });
    } finally {
      await small.close();
    }
  }, 90_000);

  it('recycles the browser when its memory grows past the limit, between reports', async () => {
    const small = await PdfRenderer.start({ recycleAboveRssBytes: 50 * 2 ** 20, concurrency: 2 });
    try {
      const pdfs = await Promise.all(Array.from({ length: 4 }, () => small.render(html)));
      expect(pdfs.every(isPdf)).toBe(true);
      expect(small.stats().browserRestarts).toBeGreaterThanOrEqual(1);
      expect(small.stats().peakRssBytes).toBeGreaterThan(50 * 2 ** 20);
    } finally {
      await small.close();
    }
  }, 90_000);

  it('relaunches a browser that was killed, also under a report being printed', async () => {
    const small = await PdfRenderer.start({ concurrency: 1 });
    try {
      expect(isPdf(await small.render(html))).toBe(true);
      const killed = small.browserPid() as number;
      process.kill(killed, 'SIGKILL');
      await waitFor('the killed Chromium to exit', async () =>
        processTreeRssBytes(killed) === 0 ? true : undefined,
      );
      expect(isPdf(await small.render(html))).toBe(true);
      expect(small.stats().browserRestarts).toBe(1);

      const printing = small.render(html);
      await new Promise((r) => setTimeout(r, 30));
      process.kill(small.browserPid() as number, 'SIGKILL');
      expect(isPdf(await printing)).toBe(true);
      expect(small.stats().browserRestarts).toBe(2);
    } finally {
      await small.close();
    }
  }, 90_000);

  it('leaves no Chromium process behind when closed', async () => {
    const own = await PdfRenderer.start();
    await own.render(html);
    const pid = own.browserPid() as number;
    expect(processTreeRssBytes(pid)).toBeGreaterThan(0);
    await own.close();
    expect(processTreeRssBytes(pid)).toBe(0);
    await expect(own.render(html)).rejects.toThrow('PdfRenderer is closed');
  }, 60_000);
});
