// Notices to subscribers, mounted into billing as an extension: the scan job (events → notices), the
// delivery job (the outbox), the staff routes (list, resend, each customer's channels, language and
// opt-out), and the metrics.
import type express from 'express';
import type { Outbox } from '@ispmon/service-kit';
import type { ApiExtension, MountTools } from '../app.js';
import type { RuntimeDeps } from '../runtime.js';
import { makeSenders, type Senders } from './channels.js';
import { configuredChannels, type NoticeConfig } from './config.js';
import { loadTemplates } from './messages.js';
import { NoticeMetrics } from './metrics.js';
import { noticeOutbox, type NoticeMessage, type NoticeRow } from './outbox.js';
import { mountNoticeRoutes } from './routes.js';
import { scanNotices, type ScanResult } from './scan.js';

export interface NoticeOptions {
  config: NoticeConfig;
  /** The signed link to the isolation page of a subscription (billing/src/portal); none: no link in messages. */
  paymentLink?: (subscriptionId: string) => string;
  env?: NodeJS.ProcessEnv;
  random?: () => number;
}

export class NoticeService implements ApiExtension {
  private readonly senders: Senders;
  private readonly outbox: Outbox<NoticeRow, NoticeMessage>;

  constructor(
    private readonly deps: RuntimeDeps,
    private readonly o: NoticeOptions,
  ) {
    this.senders = makeSenders(o.config, o.env);
    const metrics = new NoticeMetrics(deps.metrics.registry, deps.orm, configuredChannels(o.config));
    this.outbox = noticeOutbox({
      orm: deps.orm,
      config: o.config,
      senders: this.senders,
      templates: loadTemplates(),
      metrics,
      logger: deps.logger,
      paymentLink: o.paymentLink,
      ...(o.random ? { random: o.random } : {}),
    });
    deps.jobs.add({
      name: 'notice_scan',
      everyMs: o.config.scan_interval_seconds * 1000,
      run: async (now) => {
        const r = await scanNotices(deps.orm, o.config, now);
        if (Object.keys(r.queued).length || Object.keys(r.suppressed).length)
          deps.logger.info({ event: 'notices_queued', ...r }, 'notices queued');
        return r;
      },
    });
    deps.jobs.add({
      name: 'notice_delivery',
      everyMs: o.config.delivery_interval_seconds * 1000,
      // One notice at a time until none is due, so a crash repeats at most the one in flight.
      // A round's time starts at `now` and advances with the clock, so a long round claims with a current lease.
      run: async (now) => {
        const start = deps.clock().getTime();
        const at = (): Date => new Date(now.getTime() + deps.clock().getTime() - start);
        let handled = 0;
        while (!deps.jobs.isStopping && (await this.outbox.deliverNext(at()))) handled += 1;
        return handled;
      },
    });
  }

  /** Queues the notices of events not yet noticed (the periodic job; tests and staff call it now). */
  scan(now?: Date): Promise<ScanResult> {
    return this.deps.jobs.runNow('notice_scan', now);
  }

  /** Delivers due notices until none is due; returns how many were handled. */
  deliver(now?: Date): Promise<number> {
    return this.deps.jobs.runNow('notice_delivery', now);
  }

  mount(api: express.Router, t: MountTools): void {
    mountNoticeRoutes(api, t, {
      orm: this.deps.orm,
      config: this.o.config,
      kick: () => {
        if (this.o.config.delivery_interval_seconds > 0) void this.deliver().catch(() => undefined);
      },
    });
  }

  async stop(): Promise<void> {
    this.outbox.stop();
    this.senders.close();
  }
}
