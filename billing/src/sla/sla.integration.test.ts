// SLA reports end to end: a month of raw probe counters backfilled into a real Prometheus with promtool,
// the billing API (links, maintenance, reports), Chromium's PDF, and the e-mail reaching an SMTP
// receiver. The checks that need no browser (commitment gauges, probes.json, maintenance validation)
// run without Chromium; the rest skip locally with a message and fail in CI (CI=true).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import {
  startPostgres,
  type PostgresServer,
  type PrometheusServer,
  startPrometheusWithHistory,
} from '@ispmon/testkit';
import { startHarness, type Harness } from '../../test/harness.js';
import { monthBounds } from './calc.js';
import { PrometheusSlaSource } from './prometheus.js';
import { SlaService } from './service.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DOWN_FROM = Date.parse('2026-04-10T03:00:00Z'); // 10:00 in Jakarta
const MAINTENANCE = { start: Date.parse('2026-04-20T18:00:00Z'), end: Date.parse('2026-04-20T20:00:00Z') };

/**
 * OpenMetrics text of a link's raw probe counters for April (Jakarta) as Prometheus scrapes them from
 * the exporter: 1 probe/s, scraped every 30 s at :05 and :35 (15 s in production; half the file).
 */
function backfill(
  link: string,
  customer: string,
  down: (s: number) => boolean,
  latency: (s: number) => number,
): string {
  const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
  const labels = `{link="${link}",customer="${customer}"}`;
  const lines: Record<string, string[]> = {
    probe_packets_sent_total: [],
    probe_packets_received_total: [],
    probe_rtt_seconds_sum: [],
    probe_rtt_seconds_count: [],
  };
  let sent = 0;
  let received = 0;
  let rttSum = 0;
  for (let t = start.getTime() + 5_000; t < end.getTime() + 120_000; t += 30_000) {
    for (let sec = t - 30_000; sec < t; sec += 1000) {
      const replied = down(sec) ? 0 : 0.998; // 0.2 % loss while up
      sent += 1;
      received += replied;
      rttSum += replied * latency(sec);
    }
    lines.probe_packets_sent_total?.push(`probe_packets_sent_total${labels} ${sent} ${t / 1000}`);
    lines.probe_packets_received_total?.push(`probe_packets_received_total${labels} ${received} ${t / 1000}`);
    lines.probe_rtt_seconds_sum?.push(`probe_rtt_seconds_sum${labels} ${rttSum} ${t / 1000}`);
    lines.probe_rtt_seconds_count?.push(`probe_rtt_seconds_count${labels} ${received} ${t / 1000}`);
  }
  return Object.values(lines)
    .map((samples) => samples.join('\n'))
    .join('\n');
}

/** Locally a missing Chromium skips the browser checks, saying so; in CI it fails them. */
function browserDescribe(): jest.Describe {
  if (existsSync(CHROMIUM)) return describe;
  if (process.env.CI === 'true')
    return ((name: string) =>
      describe(name, () => {
        it('has Chromium', () => {
          throw new Error(
            `Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH or apt-get install chromium)`,
          );
        });
      })) as unknown as jest.Describe;
  console.warn(
    `SKIPPED: SLA report rendering checks — no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
  return describe.skip;
}

describe('SLA reports', () => {
  let pg: PostgresServer;
  let prom: PrometheusServer;
  let smtp: SMTPServer;
  let t: Harness;
  const mails: string[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    const dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-tsdb-'));
    const om = join(dir, 'series.om');
    const text = [
      backfill(
        'L-0042',
        'C-042',
        (s) => s >= DOWN_FROM && s < DOWN_FROM + 37 * 60_000,
        (s) =>
          s >= Date.parse('2026-04-15T00:00:00Z') && s < Date.parse('2026-04-16T00:00:00Z') ? 0.048 : 0.011,
      ),
      backfill(
        'L-0043',
        'C-042',
        () => false,
        () => 0.005,
      ),
    ].join('\n');
    writeFileSync(om, `${text}\n# EOF\n`);
    prom = await startPrometheusWithHistory(om, { maxBlockDuration: '768h' });
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData: (stream, _s, cb) => {
        let m = '';
        stream.on('data', (c: Buffer) => (m += c.toString()));
        stream.on('end', () => {
          mails.push(m);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    t = await startHarness(pg, {
      extensions: (deps) => [
        new SlaService({
          ...deps,
          logger: pino({ level: 'silent' }),
          source: new PrometheusSlaSource({ url: prom.url, maxPointsPerQuery: 5_000 }), // 43,200 minutes → 9 chunks
          provider: { name: 'Nusantara Fiber', email: 'noc@nusantara.example', accentColor: '#0a6e5c' },
          smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
          monthlyCheckMs: 0,
        }),
      ],
    });
    t.clock.now = new Date('2026-05-01T01:00:00+07:00');
  }, 180_000); // PostgreSQL, then promtool backfill + start (over 60 s at load 15: prometheus.test.ts)

  afterAll(async () => {
    await t?.stop();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    await prom?.stop();
    await pg?.stop();
  });

  /** The customer and link of the breached month, created once by whichever test needs them first. */
  let created: Promise<{ customerId: number; linkId: number }> | undefined;
  const breachedLink = (): Promise<{ customerId: number; linkId: number }> =>
    (created ??= (async () => {
      const customer = await t.call('POST', '/api/v1/customers', {
        code: 'C-042',
        name: 'PT Maju Jaya',
        email: 'it@majujaya.example',
      });
      const link = await t.call('POST', '/api/v1/links', {
        code: 'L-0042',
        customer_id: customer.body.id,
        name: 'HQ to data centre',
        probe_host: '10.213.1.2',
        bandwidth: '100 Mbps',
        availability_target_percent: 99.95,
        latency_target_ms: 20,
        loss_target_percent: 1,
        monthly_fee_idr: 12_500_000,
        credit_policy: {
          tiers: [
            { below_availability_percent: 99.95, credit_percent: 10 },
            { below_availability_percent: 99.5, credit_percent: 25 },
          ],
          cap_percent: 50,
        },
        contacts: ['it@majujaya.example', 'cfo@majujaya.example'],
        time_zone: 'Asia/Jakarta',
      });
      expect(link.status).toBe(201);
      const m = await t.call('POST', `/api/v1/links/${link.body.id}/maintenance`, {
        starts_at: new Date(MAINTENANCE.start).toISOString(),
        ends_at: new Date(MAINTENANCE.end).toISOString(),
        reason: 'Core switch upgrade',
      });
      expect(m.status).toBe(201);
      return { customerId: Number(customer.body.id), linkId: Number(link.body.id) };
    })());

  it('publishes commitments as gauges, makes the link a probe target, validates maintenance', async () => {
    const { linkId } = await breachedLink();
    expect(
      (
        await t.call('POST', `/api/v1/links/${linkId}/maintenance`, {
          starts_at: '2026-04-20T20:00:00Z',
          ends_at: '2026-04-20T18:00:00Z',
          reason: 'x',
        })
      ).body.field,
    ).toBe('ends_at');

    // Commitments reach Prometheus as gauges, and the link becomes a probe target.
    const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
    expect(metrics).toContain(
      'ispmon_link_sla_availability_target_ratio{link="L-0042",customer="C-042"} 0.9995',
    );
    expect(metrics).toContain('ispmon_link_sla_latency_target_seconds{link="L-0042",customer="C-042"} 0.02');
    expect(metrics).toContain('ispmon_link_sla_loss_target_ratio{link="L-0042",customer="C-042"} 0.01');
    const probes = JSON.parse(
      readFileSync(join(t.inventoryDir, 'file_sd', 'probes.json'), 'utf8'),
    ) as unknown;
    expect(probes).toEqual([
      { targets: ['L-0042'], labels: { link: 'L-0042', customer: 'C-042', module: 'icmp' } },
    ]);
  });

  browserDescribe()('with Chromium', () => {
    it('computes, renders, stores, e-mails and records the credit of a breached month', async () => {
      const { customerId, linkId } = await breachedLink();
      const customer = { body: { id: customerId } };
      const link = { body: { id: linkId } };
      const r = await t.call('POST', `/api/v1/links/${link.body.id}/reports`, { month: '2026-04' });
      expect(r.status).toBe(201);
      // 43,200 minutes − 120 of maintenance = 43,080 counted; 37 down → 43,043 / 43,080.
      expect(r.body.availability_percent).toBeCloseTo((43_043 / 43_080) * 100, 9);
      expect(r.body).toMatchObject({
        link: 'L-0042',
        month: '2026-04',
        breached: true,
        credit_idr: 1_250_000,
        created: true,
        emailed_to: ['it@majujaya.example', 'cfo@majujaya.example'],
      });

      const list = await t.call('GET', `/api/v1/links/${link.body.id}/reports`, undefined, t.tokens.viewer);
      const summary = list.body.items[0].summary;
      expect(summary.minutes).toEqual({ total: 43_200, up: 43_043, down: 37, noData: 0, maintenance: 120 });
      expect(summary.incidents).toEqual([
        {
          start: new Date(DOWN_FROM).toISOString(),
          end: new Date(DOWN_FROM + 37 * 60_000).toISOString(),
          durationMinutes: 37,
        },
      ]);
      expect(summary.latency.meanMs).toBeCloseTo((11 * (43_043 - 1440) + 48 * 1440) / 43_043, 6); // one day at 48 ms
      expect(summary.breaches).toEqual({ availability: true, latency: false, loss: false });

      const pdf = await fetch(`${t.runtime.url}/api/v1/reports/${r.body.id}/pdf`, {
        headers: { authorization: `Bearer ${t.tokens.viewer}` },
      });
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      const file = join(mkdtempSync(join(tmpdir(), 'ispmon-sla-')), 'r.pdf');
      writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      for (const s of [
        'PT Maju Jaya',
        'L-0042',
        'April 2026',
        '99.914%',
        'Rp 1.250.000',
        '10 Apr 2026, 10:00',
        '37 min',
        'Core switch upgrade',
        'Page 1 of',
      ])
        expect(text).toContain(s);

      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatch(/^To: it@majujaya.example, cfo@majujaya.example/m);
      expect(mails[0]).toContain('Subject: Service level report L-0042 2026-04: availability 99.914%');
      expect(mails[0]).toMatch(/Content-Type: application\/pdf; name=sla-L-0042-2026-04.pdf/);
      const attachment =
        /Content-Transfer-Encoding: base64\r?\nContent-Disposition: attachment;[^\n]*\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(
          mails[0] ?? '',
        );
      expect(
        Buffer.from((attachment?.[1] ?? '').replace(/\s/g, ''), 'base64')
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');

      const credits = await t.call('GET', '/api/v1/sla-credits');
      expect(credits.body).toEqual([
        expect.objectContaining({ month: '2026-04', amount_idr: 1_250_000, applied_invoice_id: null }),
      ]);

      // The credit is deducted from the customer's next invoice by the billing cycle, once.
      const next = await t.call('POST', '/api/v1/invoices', {
        customer_id: customer.body.id,
        description: 'Dedicated link, May 2026',
        amount_idr: 12_500_000,
      });
      expect((await t.call('POST', '/api/v1/billing-cycle/run', {})).body.slaCreditsApplied).toEqual({
        count: 1,
        sample: [next.body.number],
      });
      expect((await t.call('POST', '/api/v1/billing-cycle/run', {})).body.slaCreditsApplied.count).toBe(0);
      expect((await t.call('GET', `/api/v1/invoices/${next.body.id}`)).body).toMatchObject({
        amount_idr: 12_500_000,
        credit_idr: 1_250_000,
      });
      expect((await t.call('GET', '/api/v1/sla-credits')).body[0].applied_invoice_id).toBe(next.body.id);

      // Idempotent per link and month unless forced; a month that is not over is refused.
      const again = await t.call('POST', `/api/v1/links/${link.body.id}/reports`, { month: '2026-04' });
      expect(again.body).toMatchObject({ id: r.body.id, created: false });
      expect(mails).toHaveLength(1);
      const forced = await t.call('POST', `/api/v1/links/${link.body.id}/reports`, {
        month: '2026-04',
        force: true,
        email: false,
      });
      expect(forced.body).toMatchObject({ id: r.body.id, created: true });
      expect(
        (await t.call('POST', `/api/v1/links/${link.body.id}/reports`, { month: '2026-05' })).status,
      ).toBe(409);
    }, 120_000);

    it('runs the monthly job for every active link once', async () => {
      const { customerId, linkId } = await breachedLink();
      const before = await t.call('GET', `/api/v1/links/${linkId}/reports`);
      const other = await t.call('POST', '/api/v1/links', {
        code: 'L-0043',
        customer_id: customerId,
        name: 'Branch office',
        availability_target_percent: 99.5,
        monthly_fee_idr: '2500000',
        credit_policy: { tiers: [], cap_percent: 0 },
      });
      expect(other.status).toBe(201);
      const run = await t.call('POST', '/api/v1/sla/run-monthly', {});
      // L-0043, and L-0042 unless the breached-month test made its April report already.
      expect(run.body).toEqual({ produced: 1 + (before.body.items.length === 0 ? 1 : 0), failed: 0 });
      expect((await t.call('POST', '/api/v1/sla/run-monthly', {})).body).toEqual({ produced: 0, failed: 0 });
      const reports = await t.call('GET', `/api/v1/links/${other.body.id}/reports`);
      expect(reports.body.items[0]).toMatchObject({
        month: '2026-04',
        availability_percent: 100,
        breached: false,
        credit_idr: 0,
      });
    }, 120_000);
  });
});
