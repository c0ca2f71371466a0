// The isolation page as HTML: a view model of formatted words, dates and rupiah, laid out by
// billing/templates/portal/page.hbs (compiled once; handlebars escapes every value).
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { formatIdr } from '../sla/report/render.js';
import { MESSAGES, type Lang } from './messages.js';
import type { PortalPage } from './page.js';

export interface PortalProvider {
  name: string;
  phone?: string;
}

export interface RenderOptions {
  lang: Lang;
  provider: PortalProvider;
  timeZone: string;
  /** This page's path (without query): the language switch links to it. */
  selfPath: string;
  /** Where the Pay buttons post. */
  payAction: string;
  /** A payment that could not be started, shown above the invoices. */
  error?: string;
}

let template: Handlebars.TemplateDelegate | undefined;
function compiled(): Handlebars.TemplateDelegate {
  template ??= Handlebars.create().compile(
    readFileSync(new URL('../../templates/portal/page.hbs', import.meta.url), 'utf8'),
    { strict: false },
  );
  return template;
}

export function renderPortalPage(page: PortalPage, o: RenderOptions): string {
  const t = MESSAGES[o.lang];
  const dates = new Intl.DateTimeFormat(o.lang === 'id' ? 'id-ID' : 'en-GB', {
    timeZone: o.timeZone,
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
  const switchLang: Lang = o.lang === 'id' ? 'en' : 'id';
  const base = {
    lang: o.lang,
    t,
    provider: o.provider,
    switchLang,
    selfPath: o.selfPath,
    payAction: o.payAction,
  };
  switch (page.kind) {
    case 'suspended':
      return compiled()({
        ...base,
        suspended: true,
        customerName: page.customerName,
        planName: page.planName,
        error: o.error,
        total: formatIdr(page.totalIdr),
        invoices: page.invoices.map((i) => ({
          id: i.id,
          number: i.number,
          period:
            i.periodStart && i.periodEnd
              ? // The period ends at the instant the next begins: show its last day.
                `${dates.format(i.periodStart)} – ${dates.format(new Date(i.periodEnd.getTime() - 1))}`
              : i.description,
          due: dates.format(i.dueAt),
          amount: formatIdr(i.dueIdr),
        })),
      });
    case 'restored':
      return compiled()({
        ...base,
        restored: true,
        customerName: page.customerName,
        planName: page.planName,
      });
    case 'link_refused':
      return compiled()({ ...base, linkRefused: true });
    case 'rate_limited':
      return compiled()({ ...base, rateLimited: true });
    case 'neutral':
      return compiled()(base);
  }
}
