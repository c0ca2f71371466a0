// HTML → A4 PDF with Debian's Chromium through puppeteer-core: one browser reused, a page per report
// closed after use, bounded concurrency, and the browser recycled after N pages or when its memory
// grows (or relaunched when it died).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export interface PdfRendererOptions {
  executablePath?: string;
  concurrency?: number;
  recycleAfterPages?: number;
  recycleAboveRssBytes?: number;
}

function rssOfTree(rootPid: number): number {
  // Sum VmRSS of the browser and its children (renderers, GPU/utility processes).
  let total = 0;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // process gone
    }
  }
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(m?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

export class PdfRenderer {
  private browser: Browser | undefined;
  private profileDir: string | undefined;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private pagesSinceLaunch = 0;
  private restarts = 0;
  private rendered = 0;
  private peakRss = 0;

  private constructor(
    private readonly o: Required<Omit<PdfRendererOptions, 'executablePath'>> & { executablePath: string },
  ) {}

  static async start(o: PdfRendererOptions = {}): Promise<PdfRenderer> {
    const r = new PdfRenderer({
      executablePath: o.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      concurrency: o.concurrency ?? 2,
      recycleAfterPages: o.recycleAfterPages ?? 500,
      recycleAboveRssBytes: o.recycleAboveRssBytes ?? 1024 * 1024 * 1024,
    });
    await r.launch();
    return r;
  }

  private async launch(): Promise<Browser> {
    this.profileDir = mkdtempSync(join(tmpdir(), 'ispmon-chromium-'));
    this.browser = await puppeteer.launch({
      executablePath: this.o.executablePath,
      headless: true,
      userDataDir: this.profileDir,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        '--font-render-hinting=none',
      ],
    });
    this.pagesSinceLaunch = 0;
    return this.browser;
  }

  private async shutdownBrowser(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    await b?.close().catch(() => b.process()?.kill('SIGKILL'));
    if (this.profileDir) rmSync(this.profileDir, { recursive: true, force: true });
  }

  private async acquire(): Promise<void> {
    if (this.active < this.o.concurrency) {
      this.active += 1;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }

  /** Recycles when idle and due: after N pages or above the memory limit. */
  private async maybeRecycle(): Promise<void> {
    if (!this.browser) return;
    const pid = this.browser.process()?.pid;
    const rss = pid ? rssOfTree(pid) : 0;
    this.peakRss = Math.max(this.peakRss, rss);
    if (
      this.active === 1 &&
      (this.pagesSinceLaunch >= this.o.recycleAfterPages || rss > this.o.recycleAboveRssBytes)
    ) {
      await this.shutdownBrowser();
      this.restarts += 1;
    }
  }

  async render(html: string, o: { footerLabel?: string } = {}): Promise<Buffer> {
    await this.acquire();
    try {
      if (!this.browser?.connected) {
        if (this.browser) this.restarts += 1;
        await this.shutdownBrowser();
        await this.launch();
      }
      const page = await (this.browser as Browser).newPage();
      try {
        await page.setJavaScriptEnabled(false);
        await page.setContent(html, { waitUntil: 'load', timeout: 30_000 });
        const label = (o.footerLabel ?? '').replace(/[<>&"]/g, '');
        const pdf = await page.pdf({
          format: 'A4',
          printBackground: true,
          displayHeaderFooter: true,
          headerTemplate: '<span></span>',
          footerTemplate: `<div style="font-size:8px;width:100%;padding:0 16mm;color:#5b6776;display:flex;justify-content:space-between;font-family:'DejaVu Sans',sans-serif"><span>${label}</span><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
          margin: { top: '18mm', bottom: '20mm', left: '16mm', right: '16mm' },
        });
        this.rendered += 1;
        this.pagesSinceLaunch += 1;
        return Buffer.from(pdf);
      } finally {
        await page.close().catch(() => undefined);
      }
    } finally {
      await this.maybeRecycle().catch(() => undefined);
      this.release();
    }
  }

  stats(): { pagesRendered: number; browserRestarts: number; peakRssBytes: number } {
    return { pagesRendered: this.rendered, browserRestarts: this.restarts, peakRssBytes: this.peakRss };
  }

  /** The browser's pid (tests kill it to check recovery). */
  browserPid(): number | undefined {
    return this.browser?.process()?.pid;
  }

  async close(): Promise<void> {
    await this.shutdownBrowser();
  }
}
