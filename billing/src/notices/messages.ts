// The text of a notice: billing/templates/notices/<language>/<event>.hbs (handlebars, compiled once). The
// first line of the rendered text is the title (the e-mail subject); the rest is the body. SMS and
// WhatsApp carry title and body. Pure apart from reading the templates at start.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { LANGUAGES, NOTICE_EVENTS, type Language, type NoticeEvent } from './config.js';

/** What a template can say, already formatted for the customer's language. */
export interface NoticeFacts {
  event: NoticeEvent;
  language: Language;
  provider: string;
  customer: string;
  plan: string | null;
  invoice: { number: string; dueIdr: bigint; dueAt: Date } | null;
  /** Reminders: days before the due date. */
  days: number | null;
  /** Suspensions: the amount of the overdue invoices. */
  overdueIdr: bigint | null;
  paymentLink: string | null;
  timeZone: string;
}

export interface NoticeText {
  subject: string;
  body: string;
}

type Templates = Map<string, Handlebars.TemplateDelegate>;

const LOCALE: Record<Language, string> = { id: 'id-ID', en: 'en-GB' };

export function loadTemplates(dir = new URL('../../templates/notices/', import.meta.url)): Templates {
  const templates: Templates = new Map();
  for (const language of LANGUAGES)
    for (const event of NOTICE_EVENTS)
      templates.set(
        `${language}/${event}`,
        // Plain text, never HTML: nothing to escape.
        Handlebars.compile(readFileSync(new URL(`${language}/${event}.hbs`, dir), 'utf8'), {
          noEscape: true,
        }),
      );
  return templates;
}

/** Whole rupiah as the customer reads them: "Rp 150.000" (bigint all the way, never a float). */
export function formatIdr(amount: bigint, language: Language): string {
  return new Intl.NumberFormat(LOCALE[language], {
    style: 'currency',
    currency: 'IDR',
    maximumFractionDigits: 0,
    minimumFractionDigits: 0,
  })
    .format(amount)
    .replace(/\u00a0/g, ' '); // Intl's no-break space looks broken on some SMS gateways
}

export function formatDate(at: Date, language: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(LOCALE[language], { dateStyle: 'long', timeZone }).format(at);
}

export function renderNotice(templates: Templates, f: NoticeFacts): NoticeText {
  const template = templates.get(`${f.language}/${f.event}`);
  if (!template) throw new Error(`no notice template ${f.language}/${f.event}`);
  const text = template({
    provider: f.provider,
    customer: f.customer,
    plan: f.plan ?? '',
    invoice: f.invoice
      ? {
          number: f.invoice.number,
          amount: formatIdr(f.invoice.dueIdr, f.language),
          due: formatDate(f.invoice.dueAt, f.language, f.timeZone),
        }
      : null,
    days: f.days,
    oneDay: f.days === 1,
    overdue: f.overdueIdr !== null && f.overdueIdr > 0n ? formatIdr(f.overdueIdr, f.language) : null,
    paymentLink: f.paymentLink,
  }).trim();
  const newline = text.indexOf('\n');
  return newline < 0
    ? { subject: text, body: '' }
    : { subject: text.slice(0, newline).trim(), body: text.slice(newline + 1).trim() };
}
