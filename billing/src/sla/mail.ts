// E-mail delivery of a report over SMTP (SMTP_URL): one message per report with the PDF attached.
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { ProviderBranding } from './report/render.js';
import type { SlaLink } from './link.js';
import type { SlaMonth } from './types.js';

export interface ReportMail {
  to: string[];
  link: SlaLink;
  month: string;
  pdf: Buffer;
  sla: SlaMonth;
}

export interface ReportMailer {
  send(mail: ReportMail): Promise<void>;
}

/** Subject, text and attachment of a report's message. */
export function reportMessage(mail: ReportMail, provider: ProviderBranding, from: string): SendMailOptions {
  const { link, month, sla } = mail;
  const availability = sla.availabilityPercent === null ? 'n/a' : `${sla.availabilityPercent.toFixed(3)}%`;
  return {
    from,
    to: mail.to,
    subject: `Service level report ${link.code} ${month}: availability ${availability}`,
    text: `Dear ${link.customer_name},\n\nattached is the service level report of ${link.name} (${link.code}) for ${month}.\nAvailability: ${availability} (commitment ${Number(link.availability_target_percent)}%).\n\n${provider.name}\n`,
    attachments: [
      { filename: `sla-${link.code}-${month}.pdf`, content: mail.pdf, contentType: 'application/pdf' },
    ],
  };
}

/** An SMTP error may quote the URL; its user and password never reach the database or the log. */
export function redactCredentials(message: string): string {
  return message.replace(/\/\/[^@/]*@/g, '//***@');
}

export class SmtpReportMailer implements ReportMailer {
  private readonly from: string;

  constructor(
    private readonly smtpUrl: string,
    private readonly provider: ProviderBranding,
    mailFrom?: string,
  ) {
    this.from = mailFrom ?? `${provider.name} <${provider.email ?? 'noc@localhost'}>`;
  }

  async send(mail: ReportMail): Promise<void> {
    const transport = nodemailer.createTransport(this.smtpUrl);
    try {
      await transport.sendMail(reportMessage(mail, this.provider, this.from));
    } finally {
      transport.close();
    }
  }
}
