// HTTP shell of the isolation page: public (no staff token), outside /api/v1. Finds the subscriber
// (by the request's source address, or by a signed link), asks page.ts what to show, renders it, and
// starts a Midtrans Snap payment for an invoice the page offered. Rate limited per source address.
import express, { type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { ApiExtension, AppOptions, MountTools } from '../app.js';
import { ApiError } from '../db/sql.js';
import { clientAddress, TrustedProxies } from './address.js';
import { verifyPortalToken, type PortalLinkSettings } from './link.js';
import { LANGS, MESSAGES, pickLang, type Lang } from './messages.js';
import {
  identify,
  PAGE_OUTCOMES,
  pageFor,
  payableInvoice,
  type PageOutcome,
  type PortalPage,
} from './page.js';
import { renderPortalPage, type PortalProvider } from './render.js';
import type { PoolAddressLookup } from './sessions.js';
import type { PortalStore } from './store.js';

export interface PortalOptions {
  store: PortalStore;
  logger: Logger;
  registry: Registry;
  clock: () => Date;
  /** Signed links; without them every link is refused. */
  links?: PortalLinkSettings;
  /** Addresses or CIDR ranges whose X-Forwarded-For is believed; empty: never read. */
  trustedProxies: readonly string[];
  /** Requests per source address per minute, across the portal's routes. */
  ratePerMinute: number;
  provider: PortalProvider;
  timeZone: string;
  /** Addresses billing did not assign (pools): asked of the routers' /ppp/active. */
  pool?: PoolAddressLookup;
}

/** The Pay button's form (application/x-www-form-urlencoded). */
export const portalPaySchema = z.strictObject({
  invoice_id: z.string().regex(/^\d{1,18}$/, 'an invoice id'),
  lang: z.enum(LANGS).optional(),
});

interface Resolved {
  page: PortalPage;
  outcome: PageOutcome;
  /** This page's path: the language switch and the Pay redirect come back to it. */
  selfPath: string;
  payAction: string;
  subscriptionId?: string;
}

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // The page names a subscriber: no cache keeps it, and a signed link never leaves in a Referer.
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  vary: 'Accept-Language',
};

export class IsolationPortal implements ApiExtension {
  private readonly trusted: TrustedProxies;
  private readonly views: Counter<'outcome'>;
  private readonly payments: Counter<'outcome'>;
  /** Request counts per address for the current minute (per replica). */
  private readonly counts = new MemoryStore();

  constructor(private readonly o: PortalOptions) {
    this.trusted = new TrustedProxies(o.trustedProxies);
    this.views = new Counter({
      name: 'ispmon_billing_portal_page_views_total',
      help: 'Isolation page views by outcome (suspended, restored, unknown, ambiguous, not_suspended, link_refused, rate_limited).',
      labelNames: ['outcome'],
      registers: [o.registry],
    });
    this.payments = new Counter({
      name: 'ispmon_billing_portal_payments_started_total',
      help: 'Pay buttons pressed on the isolation page by outcome (started: a Snap payment opened; refused: the invoice is not payable there; failed: Midtrans or billing could not start it).',
      labelNames: ['outcome'],
      registers: [o.registry],
    });
    for (const outcome of PAGE_OUTCOMES) this.views.inc({ outcome }, 0);
    for (const outcome of ['started', 'refused', 'failed']) this.payments.inc({ outcome }, 0);
  }

  /** The source address the portal believes (proxy-aware), or undefined. */
  addressOf(req: Request): string | undefined {
    return clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trusted);
  }

  private lang(req: Request, fromBody?: unknown): Lang {
    return pickLang(fromBody ?? req.query.lang, req.acceptsLanguages(...LANGS));
  }

  private send(res: Response, status: number, html: string): void {
    res.status(status).set(HEADERS).send(html);
  }

  private async bySubscriber(
    matches: Awaited<ReturnType<PortalStore['byId']>>,
    paths: { selfPath: string; payAction: string },
  ): Promise<Resolved> {
    const found = identify(matches);
    if (!('subscriber' in found)) return { page: { kind: 'neutral' }, outcome: found.outcome, ...paths };
    const sub = found.subscriber;
    const overdue = sub.status === 'suspended' ? await this.o.store.overdueInvoices(sub.id) : [];
    return { ...pageFor(sub, overdue, this.o.clock()), ...paths, subscriptionId: sub.id };
  }

  private async byAddress(req: Request): Promise<Resolved> {
    const paths = { selfPath: '/portal', payAction: '/portal/pay' };
    const address = this.addressOf(req);
    if (!address) return { page: { kind: 'neutral' }, outcome: 'unknown', ...paths };
    const assigned = await this.o.store.byAddress(address);
    const matches = assigned.length || !this.o.pool ? assigned : await this.o.pool.subscribersAt(address);
    return this.bySubscriber(matches, paths);
  }

  private async byLink(req: Request): Promise<Resolved> {
    const token = String(req.params.token ?? '');
    const selfPath = `/portal/link/${encodeURIComponent(token)}`;
    const paths = { selfPath, payAction: `${selfPath}/pay` };
    const check = this.o.links
      ? verifyPortalToken(this.o.links.secret, token, this.o.clock())
      : ({ ok: false, reason: 'signature' } as const);
    if (!check.ok) {
      this.o.logger.info({ event: 'portal_link_refused', reason: check.reason }, 'portal link refused');
      return { page: { kind: 'link_refused' }, outcome: 'link_refused', ...paths };
    }
    return this.bySubscriber(await this.o.store.byId(check.subscriptionId), paths);
  }

  private show(find: (req: Request) => Promise<Resolved>) {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        const r = await find(req);
        this.views.inc({ outcome: r.outcome });
        const lang = this.lang(req);
        // A refused link is a 403; every other answer, a subscriber or nobody, is the same 200.
        this.send(
          res,
          r.page.kind === 'link_refused' ? 403 : 200,
          renderPortalPage(r.page, {
            ...this.renderBase(lang),
            selfPath: r.selfPath,
            payAction: r.payAction,
          }),
        );
      } catch (err) {
        next(err);
      }
    };
  }

  private pay(find: (req: Request) => Promise<Resolved>, payments: AppOptions['payments']) {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        const r = await find(req);
        const form = portalPaySchema.safeParse(req.body ?? {});
        const lang = this.lang(req, form.data?.lang);
        const back = `${r.selfPath}?lang=${lang}`;
        const line = form.success ? payableInvoice(r.page, form.data.invoice_id) : undefined;
        if (!line) {
          // Not an invoice this page offers (paid meanwhile, another subscriber's, forged): show the page.
          this.payments.inc({ outcome: 'refused' });
          res.redirect(303, back);
          return;
        }
        const finishUrl = this.o.links ? `${this.o.links.publicUrl.replace(/\/+$/, '')}${back}` : undefined;
        let snap: Record<string, unknown>;
        try {
          snap = await payments.createSnap(line.id, 'portal', this.o.clock(), {
            ...(finishUrl ? { finishUrl } : {}),
          });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          if (err.status === 409) {
            this.payments.inc({ outcome: 'refused' });
            res.redirect(303, back);
            return;
          }
          this.payments.inc({ outcome: 'failed' });
          this.o.logger.warn(
            {
              event: 'portal_payment_failed',
              subscription_id: r.subscriptionId,
              invoice_id: line.id,
              error: err.message,
            },
            'portal could not start a payment',
          );
          this.send(
            res,
            err.status === 503 ? 503 : 502,
            renderPortalPage(r.page, {
              ...this.renderBase(lang),
              selfPath: r.selfPath,
              payAction: r.payAction,
              error: MESSAGES[lang].payFailed,
            }),
          );
          return;
        }
        this.payments.inc({ outcome: 'started' });
        this.o.logger.info(
          {
            event: 'portal_payment_started',
            subscription_id: r.subscriptionId,
            invoice_id: line.id,
            order_id: snap.order_id,
          },
          'portal started a Midtrans payment',
        );
        res.redirect(303, String(snap.redirect_url));
      } catch (err) {
        next(err);
      }
    };
  }

  private renderBase(lang: Lang): { lang: Lang; provider: PortalProvider; timeZone: string } {
    return { lang, provider: this.o.provider, timeZone: this.o.timeZone };
  }

  stop(): Promise<void> {
    this.counts.shutdown();
    return Promise.resolve();
  }

  /**
   * The walled garden dst-nats an isolated subscriber's HTTP requests for any site to billing: a browser
   * asking for a page no route serves is sent to the isolation page (relative, so it comes back through the
   * same NAT); API clients keep the JSON 404.
   */
  mountFallback(app: express.Router): void {
    app.use((req: Request, res: Response, next: NextFunction) => {
      const browser = req.accepts(['json', 'html']) === 'html';
      if ((req.method === 'GET' || req.method === 'HEAD') && browser && !req.path.startsWith('/api/')) {
        res.set('cache-control', 'no-store').redirect(302, '/portal');
        return;
      }
      next();
    });
  }

  mountPublic(app: express.Router, _tools: MountTools, o: AppOptions): void {
    const limiter = rateLimit({
      windowMs: 60_000,
      limit: this.o.ratePerMinute,
      store: this.counts,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // One budget per subscriber address (an IPv6 client's /56), proxy-aware like the page itself.
      keyGenerator: (req) => ipKeyGenerator(this.addressOf(req) ?? req.socket.remoteAddress ?? 'unknown'),
      handler: (req, res) => {
        this.views.inc({ outcome: 'rate_limited' });
        this.send(
          res,
          429,
          renderPortalPage(
            { kind: 'rate_limited' },
            {
              ...this.renderBase(this.lang(req)),
              selfPath: req.path.replace(/\/pay$/, ''),
              payAction: req.path,
            },
          ),
        );
      },
      // The key is the address this class works out; express's own `trust proxy` stays off.
      validate: { xForwardedForHeader: false, trustProxy: false },
    });
    const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
    const byAddress = (req: Request) => this.byAddress(req);
    const byLink = (req: Request) => this.byLink(req);
    app.get('/portal', limiter, this.show(byAddress));
    app.post('/portal/pay', limiter, form, this.pay(byAddress, o.payments));
    app.get('/portal/link/:token', limiter, this.show(byLink));
    app.post('/portal/link/:token/pay', limiter, form, this.pay(byLink, o.payments));
  }
}
