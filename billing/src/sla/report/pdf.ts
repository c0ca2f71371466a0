// HTML → A4 PDF with Debian's Chromium through puppeteer-core: one browser reused, bounded concurrency,
// the browser recycled (drained, closed, relaunched) after N reports or when its process tree's memory
// grows, and relaunched when it died.
//
// Pages: a fresh tab costs Chromium a new renderer process (~200 ms of CPU, more than printing the
// report), so each tab prints up to `rendersPerPage` reports before it is closed; a tab is closed at
// once after any failure. setContent replaces the whole document, and JavaScript is off, so nothing of
// one report survives into the next. rendersPerPage = 1 gives a fresh tab per report.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** Reports printed by one tab before it is closed (default 25; 1 = a fresh tab per report). */
  rendersPerPage?: number;
  /** Bound on loading and printing one report (default 30 s). */
  renderTimeoutMs?: number;
}

export interface PdfRendererStats {
  /** PDF documents produced. */
  pagesRendered: number;
  /** Browsers launched after the first: recycled or crashed. */
  browserRestarts: number;
  /** Largest resident memory (Pss) of the browser's process tree seen (sampled at most twice a second). */
  peakRssBytes: number;
  /** Largest number of reports that were being printed at the same time. */
  peakInFlight: number;
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

function escapeHtml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function footerTemplate(label: string): string {
  // Chromium renders header/footer templates at their own scale: sizes here are in CSS px of the PDF.
  return `<div style="font-family:'DejaVu Sans',sans-serif;font-size:7.5px;color:#5b6776;width:100%;padding:0 16mm;display:flex;justify-content:space-between"><span>${escapeHtml(label)}</span><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`;
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

  async print(
    html: string,
    footerLabel: string,
    o: { rendersPerPage: number; timeoutMs: number; keepPage: () => boolean },
  ): Promise<Buffer> {
    const tab = this.idle.pop() ?? { page: await this.newPage(), uses: 0 };
    let reusable = false;
    try {
      await tab.page.setContent(html, { waitUntil: 'load', timeout: o.timeoutMs });
      const pdf = await tab.page.pdf({
        format: 'A4',
        printBackground: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: footerTemplate(footerLabel),
        margin: { top: '18mm', bottom: '20mm', left: '16mm', right: '16mm' },
        timeout: o.timeoutMs,
      });
      this.rendered += 1;
      tab.uses += 1;
      reusable = tab.uses < o.rendersPerPage && o.keepPage() && this.alive;
      return Buffer.from(pdf);
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
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Set when the browser is due for recycling: no new report starts until the running ones finish. */
  private draining = false;
  private recycling: Promise<void> = Promise.resolve();
  private closed = false;
  private rendered = 0;
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
      renderTimeoutMs: positive('renderTimeoutMs', o.renderTimeoutMs, 30_000),
    });
    await r.currentSession(); // fail fast on a missing or broken Chromium
    return r;
  }

  /** An A4 PDF of `html`, with "page X of Y" (and `footerLabel`) in the footer of every page. */
  async render(html: string, o: { footerLabel?: string } = {}): Promise<Buffer> {
    await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        const session = await this.currentSession();
        try {
          const pdf = await session.print(html, o.footerLabel ?? '', {
            rendersPerPage: this.o.rendersPerPage,
            timeoutMs: this.o.renderTimeoutMs,
            keepPage: () => !this.draining && !this.closed,
          });
          this.rendered += 1;
          return pdf;
        } catch (err) {
          // The browser died under this report (crash, OOM kill): print it once more on a new one.
          if (attempt === 1 && !this.closed && (await session.diedWithin(250))) continue;
          throw new Error(`PDF rendering failed (Chromium pid ${session.pid}): ${(err as Error).message}`, {
            cause: err,
          });
        } finally {
          this.afterPrint(session);
        }
      }
    } finally {
      this.release();
    }
  }

  stats(): PdfRendererStats {
    return {
      pagesRendered: this.rendered,
      browserRestarts: Math.max(0, this.launches - 1),
      peakRssBytes: this.peakRss,
      peakInFlight: this.peakInFlight,
    };
  }

  /** The pid of the browser launched last (tests kill it to check recovery). */
  browserPid(): number | undefined {
    return this.latest?.pid;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.recycling;
    const session = this.session;
    this.session = undefined;
    await (await session?.catch(() => undefined))?.close();
    for (const wake of this.waiting.splice(0)) {
      this.active += 1; // acquire() gives the slot back when it sees the renderer closed
      wake();
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

  private async acquire(): Promise<void> {
    if (this.closed) throw new Error('PdfRenderer is closed');
    if (this.active < this.o.concurrency && !this.draining && this.waiting.length === 0) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // dispatch() counts us in
    if (this.closed) {
      this.active -= 1;
      throw new Error('PdfRenderer is closed');
    }
    this.peakInFlight = Math.max(this.peakInFlight, this.active);
  }

  private release(): void {
    this.active -= 1;
    if (this.draining && this.active === 0) {
      // Nothing is printing: close the old browser; the next report launches a new one.
      const old = this.session;
      this.session = undefined;
      this.recycling = (async () => {
        await (await old?.catch(() => undefined))?.close();
      })().finally(() => {
        this.draining = false;
        this.dispatch();
      });
    } else this.dispatch();
  }

  private dispatch(): void {
    while (!this.draining && this.active < this.o.concurrency && this.waiting.length > 0) {
      this.active += 1;
      (this.waiting.shift() as () => void)();
    }
  }
}
