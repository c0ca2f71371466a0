// Notice metrics, registered in billing's registry: what went out, what failed (and will be retried),
// what was dead-lettered, by channel and event; and what waits, read from the database at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MikroORM } from '@mikro-orm/postgresql';
import { q } from '../db/sql.js';
import { NOTICE_EVENTS, type NoticeChannel } from './config.js';

export class NoticeMetrics {
  readonly sent: Counter<'channel' | 'event'>;
  readonly failed: Counter<'channel' | 'event'>;
  readonly dead: Counter<'channel' | 'event'>;

  constructor(registry: Registry, orm: MikroORM, channels: NoticeChannel[]) {
    const counter = (name: string, help: string): Counter<'channel' | 'event'> =>
      new Counter({ name, help, labelNames: ['channel', 'event'], registers: [registry] });
    this.sent = counter('ispmon_billing_notices_sent_total', 'Notices delivered to subscribers.');
    this.failed = counter(
      'ispmon_billing_notices_failed_total',
      'Failed notice delivery attempts that will be retried.',
    );
    this.dead = counter(
      'ispmon_billing_notices_dead_total',
      'Notices dead-lettered (attempts used up, or refused for good).',
    );
    new Gauge({
      name: 'ispmon_billing_notices_pending',
      help: 'Notices waiting to be delivered (due, retrying or held by quiet hours).',
      labelNames: ['channel'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const channel of channels) this.set({ channel }, 0);
        try {
          const rows = await q<{ channel: string; n: string }>(
            orm.em.fork(),
            "select channel, count(*) as n from notices where status = 'pending' group by channel",
          );
          for (const r of rows) this.set({ channel: r.channel }, Number(r.n));
        } catch {
          // database down: the scrape still answers with the counters
        }
      },
    });
    // Known label values start at 0, so rate() and panels show 0 instead of "No data".
    for (const channel of channels)
      for (const event of NOTICE_EVENTS)
        for (const c of [this.sent, this.failed, this.dead]) c.inc({ channel, event }, 0);
  }
}
