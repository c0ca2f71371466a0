// HTML → A4 PDF with Debian's Chromium through puppeteer-core: one browser reused, bounded concurrency,
// the browser recycled (drained, closed, relaunched) after N reports or when its process tree's memory
// grows, and relaunched when it died.
//
// Batches: loading and printing a document costs Chromium ~400 ms of CPU per report printed alone and
// ~100 ms per report when 25 share one document, so reports waiting for a free slot are laid out in one
// document (each from a new page, after a marker link) and printed at once; the PDF is split per report
// at the markers with pdf-lib, and each report gets its own footer ("Page X of Y" counts its own pages).
// Reports whose <head> differs (another style sheet) go into different batches.
//
// Pages: a fresh tab costs Chromium a new renderer process (~200 ms of CPU), so each tab prints up to
// `rendersPerPage` documents before it is closed; a tab is closed at once after any failure. setContent
// replaces the whole document, and JavaScript is off, so nothing of one batch survives into the next.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFString,
  StandardFonts,
  rgb,
} from '@cantoo/pdf-lib';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export interface PdfRendererOptions {
  /** Chromium binary; default $CHROMIUM_PATH, else /usr/bin/chromium. */
  executablePath?: string;
  /** Reports printed at once (default 2). */
  concurrency?: number;
  /** Recycle the browser after this many reports (default 2,000). */
  recycleAfterPages?: number;
  /** Recycle the browser when the resident memory (Pss) of its process tree exceeds this (default 1 GiB;
   * a browser printing two reports at a time holds about 0.5 GiB). */
  recycleAboveRssBytes?: number;
  /** Documents printed by one tab before it is closed (default 25; 1 = a fresh tab per document). */
  rendersPerPage?: number;
  /** Reports laid out in one Chromium document at most (default 25; 1 = each report alone). */
  batchSize?: number;
  /** Bound on loading and printing one report (default 30 s; a batch of n gets n times that). */
  renderTimeoutMs?: number;
}

export interface PdfRendererStats {
  /** PDF documents produced. */
  pagesRendered: number;
  /** Browsers launched after the first: recycled or crashed. */
  browserRestarts: number;
  /** Largest resident memory (Pss) of the browser's process tree seen (sampled at most twice a second). */
  peakRssBytes: number;
  /** Largest number of documents (batches) that were being printed at the same time. */
  peakInFlight: number;
  /** Chromium documents printed (a batch of reports is one). */
  documentsPrinted: number;
}

const RSS_SAMPLE_INTERVAL_MS = 500;

const CHROMIUM_ARGS = [
  '--no-sandbox', // runs as root in the container
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--font-render-hinting=none',
];

/** Resident memory of one process: its proportional share (Pss) where the kernel tells, else VmRSS. */
function residentBytes(pid: number): number {
  try {
    const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (pss) return Number(pss[1]) * 1024;
  } catch {
    // no smaps_rollup (old kernel, hidepid): fall back to VmRSS
  }
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(rss?.[1] ?? 0) * 1024;
}

/**
 * Resident memory of a process and all its descendants (Chromium's zygotes, renderers, utilities).
 * Chromium's processes share most of their pages, so a sum of VmRSS counts them once per process
 * (1.26 GiB for a browser whose Pss sum is 0.49 GiB); Pss splits each shared page between its sharers.
 */
export function processTreeRssBytes(rootPid: number): number {
  let total = 0;
  const stack = [rootPid];
  const seen = new Set<number>();
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      total += residentBytes(pid);
      for (const tid of readdirSync(`/proc/${pid}/task`))
        for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
          if (child.trim()) stack.push(Number(child));
    } catch {
      // the process exited while we looked
    }
  }
  return total;
}

const MARK_URL = 'https://ispmon.invalid/report/';
const MM = 72 / 25.4;
const FOOTER_GREY = rgb(0x5b / 255, 0x67 / 255, 0x76 / 255);

/** The <head> of an HTML document (what decides whether two reports can share one) and its body. */
function headAndBody(html: string): { head: string; body: string } {
  const open = /<body[^>]*>/i.exec(html);
  const close = html.toLowerCase().lastIndexOf('</body>');
  if (!open) return { head: '', body: html };
  return {
    head: html.slice(0, open.index),
    body: html.slice(open.index + open[0].length, close > open.index ? close : undefined),
  };
}

/** One document of `bodies`, each from a new page and starting with a marker link to find its pages by. */
export function batchDocument(head: string, bodies: readonly string[]): string {
  const style =
    '<style>.ispmon-report{break-before:page;position:relative}.ispmon-report:first-child{break-before:auto}' +
    '.ispmon-mark{position:absolute;top:0;left:0;width:2px;height:2px;overflow:hidden;font-size:1px;color:transparent}</style>';
  const h = /<\/head>/i.test(head)
    ? head.replace(/<\/head>/i, `${style}</head>`)
    : `<!doctype html><html><head><meta charset="utf-8">${style}</head>`;
  const parts = bodies.map(
    (body, i) =>
      `<div class="ispmon-report"><a class="ispmon-mark" href="${MARK_URL}${i}">.</a>${body}</div>`,
  );
  return `${h}<body>${parts.join('')}</body></html>`;
}

/** The report index a page's marker link names, removing the marker; undefined without one. */
function takeMarker(page: ReturnType<PDFDocument['getPages']>[number]): number | undefined {
  const annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) return undefined;
  let found: number | undefined;
  for (let k = annots.size() - 1; k >= 0; k--) {
    const action = annots.lookupMaybe(k, PDFDict)?.lookupMaybe(PDFName.of('A'), PDFDict);
    const uri = action?.lookupMaybe(PDFName.of('URI'), PDFString, PDFHexString)?.decodeText() ?? '';
    if (!uri.startsWith(MARK_URL)) continue;
    found = Number(uri.slice(MARK_URL.length));
    annots.remove(k);
  }
  return found;
}

/**
 * Splits the PDF of a batch into one PDF per report, at the pages holding each report's marker, and
 * writes each report's footer: its label and "Page X of Y" of its own pages.
 */
export async function splitBatch(
  pdf: Uint8Array,
  reports: ReadonlyArray<{ footerLabel: string; title?: string }>,
): Promise<Buffer[]> {
  const src = await PDFDocument.load(pdf, { updateMetadata: false });
  const pages = src.getPages();
  const starts: number[] = [];
  pages.forEach((page, i) => {
    const n = takeMarker(page);
    if (n !== undefined && starts[n] === undefined) starts[n] = i;
  });
  for (let n = 0; n < reports.length; n++)
    if (
      starts[n] === undefined ||
      (n > 0 && (starts[n] ?? 0) <= (starts[n - 1] ?? 0)) ||
      (n === 0 && starts[0] !== 0)
    )
      throw new Error(
        `batch of ${reports.length} reports: no page starts report ${n + 1} (markers at ${JSON.stringify(starts)})`,
      );
  const out: Buffer[] = [];
  for (const [n, report] of reports.entries()) {
    const from = starts[n] ?? 0;
    const to = starts[n + 1] ?? pages.length;
    const doc = await PDFDocument.create({ updateMetadata: false });
    if (report.title) doc.setTitle(report.title);
    const copied = await doc.copyPages(
      src,
      Array.from({ length: to - from }, (_, k) => from + k),
    );
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const supported = new Set(font.getCharacterSet());
    // The standard font has no glyphs beyond Latin-1 (WinAnsi): other characters print as '?'.
    const label = [...report.footerLabel]
      .map((c) => (supported.has(c.codePointAt(0) ?? 0) ? c : '?'))
      .join('');
    copied.forEach((page, k) => {
      doc.addPage(page);
      const size = 5.6; // 7.5 CSS px
      const y = 10 * MM;
      page.drawText(label, { x: 16 * MM, y, size, font, color: FOOTER_GREY });
      const number = `Page ${k + 1} of ${copied.length}`;
      page.drawText(number, {
        x: page.getWidth() - 16 * MM - font.widthOfTextAtSize(number, size),
        y,
        size,
        font,
        color: FOOTER_GREY,
      });
    });
    out.push(Buffer.from(await doc.save()));
  }
  return out;
}

interface QueuedReport {
  head: string;
  /** The head without its <title>: reports with the same one share a document. */
  style: string;
  body: string;
  footerLabel: string;
  resolve: (pdf: Buffer) => void;
  reject: (err: Error) => void;
}

/** One launched browser with its own profile directory and its idle tabs. */
class BrowserSession {
  rendered = 0;
  private readonly idle: Array<{ page: Page; uses: number }> = [];
  private closing: Promise<void> | undefined;

  private constructor(
    readonly browser: Browser,
    private readonly profileDir: string,
  ) {}

  static async launch(executablePath: string): Promise<BrowserSession> {
    const profileDir = mkdtempSync(join(tmpdir(), 'ispmon-chromium-'));
    try {
      const browser = await puppeteer.launch({
        executablePath,
        headless: true, // --headless=new
        userDataDir: profileDir,
        args: CHROMIUM_ARGS,
        timeout: 90_000, // puppeteer's 30 s is short for a cold start on a busy 2-core machine
      });
      return new BrowserSession(browser, profileDir);
    } catch (err) {
      rmSync(profileDir, { recursive: true, force: true });
      throw new Error(`Chromium at ${executablePath} did not start: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  get pid(): number | undefined {
    return this.browser.process()?.pid;
  }

  get alive(): boolean {
    return this.closing === undefined && this.browser.connected;
  }

  /** Whether the browser is gone or goes within `ms` (a failed print may be reported before the disconnect). */
  diedWithin(ms: number): Promise<boolean> {
    if (!this.browser.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const gone = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.browser.off('disconnected', gone);
        resolve(false);
      }, ms);
      this.browser.once('disconnected', gone);
    });
  }

  /** Prints `html` (holding `reports` reports) as one A4 PDF, without header or footer. */
  async print(
    html: string,
    reports: number,
    o: { rendersPerPage: number; timeoutMs: number; keepPage: () => boolean },
  ): Promise<Uint8Array> {
    const tab = this.idle.pop() ?? { page: await this.newPage(), uses: 0 };
    let reusable = false;
    try {
      await tab.page.setContent(html, { waitUntil: 'load', timeout: o.timeoutMs });
      const pdf = await tab.page.pdf({
        format: 'A4',
        printBackground: true,
        margin: { top: '18mm', bottom: '20mm', left: '16mm', right: '16mm' },
        timeout: o.timeoutMs,
      });
      this.rendered += reports;
      tab.uses += 1;
      reusable = tab.uses < o.rendersPerPage && o.keepPage() && this.alive;
      return pdf;
    } finally {
      if (reusable) this.idle.push(tab);
      else await tab.page.close().catch(() => undefined);
    }
  }

  private async newPage(): Promise<Page> {
    const page = await this.browser.newPage();
    try {
      await page.setJavaScriptEnabled(false);
      return page;
    } catch (err) {
      await page.close().catch(() => undefined);
      throw err;
    }
  }

  /** Closes the browser (killing it if it does not answer) and removes its profile directory. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.idle.length = 0;
      if (this.browser.connected)
        await Promise.race([
          this.browser.close(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('close timed out')), 10_000).unref()),
        ]).catch(() => undefined);
      const proc = this.browser.process();
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(this.profileDir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

export class PdfRenderer {
  private session: Promise<BrowserSession> | undefined;
  private latest: BrowserSession | undefined;
  private launches = 0;
  /** Documents being printed. */
  private active = 0;
  private readonly queue: QueuedReport[] = [];
  /** Set when the browser is due for recycling: no new document starts until the running ones finish. */
  private draining = false;
  private recycling: Promise<void> = Promise.resolve();
  private closed = false;
  private rendered = 0;
  private documents = 0;
  private peakRss = 0;
  private peakInFlight = 0;
  private lastRssSample = 0;

  private constructor(private readonly o: Required<PdfRendererOptions>) {}

  static async start(o: PdfRendererOptions = {}): Promise<PdfRenderer> {
    const positive = (name: string, v: number | undefined, fallback: number): number => {
      if (v === undefined) return fallback;
      if (!Number.isFinite(v) || v < 1) throw new Error(`PdfRenderer: ${name} must be ≥ 1, got ${v}`);
      return v;
    };
    const r = new PdfRenderer({
      executablePath: o.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      concurrency: positive('concurrency', o.concurrency, 2),
      recycleAfterPages: positive('recycleAfterPages', o.recycleAfterPages, 2_000),
      recycleAboveRssBytes: positive('recycleAboveRssBytes', o.recycleAboveRssBytes, 2 ** 30),
      rendersPerPage: positive('rendersPerPage', o.rendersPerPage, 25),
      batchSize: positive('batchSize', o.batchSize, 25),
      renderTimeoutMs: positive('renderTimeoutMs', o.renderTimeoutMs, 30_000),
    });
    await r.currentSession(); // fail fast on a missing or broken Chromium
    return r;
  }

  /**
   * An A4 PDF of `html`, with `footerLabel` and "Page X of Y" in the footer of every page. Reports asked
   * for while every slot is busy are printed together in one document when a slot frees up.
   */
  render(html: string, o: { footerLabel?: string } = {}): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('PdfRenderer is closed'));
    return new Promise<Buffer>((resolve, reject) => {
      const { head, body } = headAndBody(html);
      const style = head.replace(/<title>[\s\S]*?<\/title>/i, '');
      this.queue.push({ head, style, body, footerLabel: o.footerLabel ?? '', resolve, reject });
      this.pump();
    });
  }

  stats(): PdfRendererStats {
    return {
      pagesRendered: this.rendered,
      browserRestarts: Math.max(0, this.launches - 1),
      peakRssBytes: this.peakRss,
      peakInFlight: this.peakInFlight,
      documentsPrinted: this.documents,
    };
  }

  /** The pid of the browser launched last (tests kill it to check recovery). */
  browserPid(): number | undefined {
    return this.latest?.pid;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.queue.splice(0)) r.reject(new Error('PdfRenderer is closed'));
    await this.recycling;
    const session = this.session;
    this.session = undefined;
    await (await session?.catch(() => undefined))?.close();
  }

  /** Starts documents while slots are free: each takes the oldest waiting report and up to batchSize − 1
   * more with the same <head>. */
  private pump(): void {
    while (!this.draining && !this.closed && this.active < this.o.concurrency && this.queue.length > 0) {
      const first = this.queue[0] as QueuedReport;
      const batch: QueuedReport[] = [];
      for (let i = 0; i < this.queue.length && batch.length < this.o.batchSize;)
        if ((this.queue[i] as QueuedReport).style === first.style) batch.push(...this.queue.splice(i, 1));
        else i += 1;
      this.active += 1;
      this.peakInFlight = Math.max(this.peakInFlight, this.active);
      void this.printBatch(batch).finally(() => this.release());
    }
  }

  private async printBatch(batch: QueuedReport[]): Promise<void> {
    const head = batch[0]?.head ?? '';
    const html = batchDocument(
      head,
      batch.map((r) => r.body),
    );
    for (let attempt = 1; ; attempt++) {
      let session: BrowserSession;
      try {
        session = await this.currentSession();
      } catch (err) {
        for (const r of batch) r.reject(err as Error);
        return;
      }
      try {
        const pdf = await session.print(html, batch.length, {
          rendersPerPage: this.o.rendersPerPage,
          timeoutMs: this.o.renderTimeoutMs * batch.length, // the bound is per report
          keepPage: () => !this.draining && !this.closed,
        });
        this.documents += 1;
        const titles = batch.map((r) => /<title>([^<]*)<\/title>/i.exec(r.head)?.[1]?.trim());
        const parts = await splitBatch(
          pdf,
          batch.map((r, i) => ({
            footerLabel: r.footerLabel,
            ...(titles[i] ? { title: unescapeHtml(titles[i]) } : {}),
          })),
        );
        this.rendered += batch.length;
        batch.forEach((r, i) => r.resolve(parts[i] as Buffer));
        return;
      } catch (err) {
        // The browser died under this batch (crash, OOM kill): print it once more on a new one. The
        // disconnect can follow the failed print by more than a moment on a loaded machine: wait 2 s.
        if (attempt === 1 && !this.closed && (await session.diedWithin(2_000))) continue;
        const e = new Error(`PDF rendering failed (Chromium pid ${session.pid}): ${(err as Error).message}`, {
          cause: err,
        });
        for (const r of batch) r.reject(e);
        return;
      } finally {
        this.afterPrint(session);
      }
    }
  }

  private currentSession(): Promise<BrowserSession> {
    if (this.closed) return Promise.reject(new Error('PdfRenderer is closed'));
    const current = this.session;
    if (current)
      return current.then((s) => {
        if (s.alive) return s;
        // It crashed (or was killed): forget it and launch another.
        if (this.session === current) this.session = undefined;
        void s.close();
        return this.currentSession();
      });
    this.launches += 1;
    const launching = BrowserSession.launch(this.o.executablePath);
    this.session = launching;
    launching.then(
      (s) => {
        this.latest = s;
      },
      () => {
        if (this.session === launching) this.session = undefined;
      },
    );
    return launching;
  }

  private afterPrint(session: BrowserSession): void {
    const now = Date.now();
    let rss = 0;
    if (now - this.lastRssSample >= RSS_SAMPLE_INTERVAL_MS && session.pid !== undefined) {
      this.lastRssSample = now;
      rss = processTreeRssBytes(session.pid);
      this.peakRss = Math.max(this.peakRss, rss);
    }
    const due = session.rendered >= this.o.recycleAfterPages || rss > this.o.recycleAboveRssBytes;
    if (due && session === this.latest && session.alive) this.draining = true;
  }

  private release(): void {
    this.active -= 1;
    if (this.draining && this.active === 0) {
      // Nothing is printing: close the old browser; the next document launches a new one.
      const old = this.session;
      this.session = undefined;
      this.recycling = (async () => {
        await (await old?.catch(() => undefined))?.close();
      })().finally(() => {
        this.draining = false;
        this.pump();
      });
    } else this.pump();
  }
}

function unescapeHtml(s: string): string {
  return s.replace(
    /&(lt|gt|amp|quot|#39|#x27|#x3D);/g,
    (_m, e: string) =>
      ({ lt: '<', gt: '>', amp: '&', quot: '"', '#39': "'", '#x27': "'", '#x3D': '=' })[e] ?? _m,
  );
}
