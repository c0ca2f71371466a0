// The cycle's invoice numbers past the six-digit mark: the 1,000,000th invoice of a year keeps all its
// digits, as staff-created ones do (formatInvoiceNumber), instead of being cut to six and colliding.
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { formatInvoiceNumber } from './policy.js';
import { startHarness, type Harness } from '../test/harness.js';

describe('billing cycle invoice numbers', () => {
  let pg: PostgresServer;
  let t: Harness;

  beforeAll(async () => {
    pg = await startPostgres();
    t = await startHarness(pg);
  });

  afterAll(async () => {
    await t?.stop();
    await pg?.stop();
  });

  it('numbers renewals past 999,999 with every digit, gap-free after the counter', async () => {
    const em = t.runtime.orm.em.fork();
    const now = t.clock.now;
    await em.execute(
      "insert into routers (name, host, api_port, username, password_enc) values ('nas-1', '127.0.0.1', 8728, 'admin', 'v1:x:x:x')",
      [],
      'run',
    );
    await em.execute(
      "insert into plans (code, name, kind, rate_limit, price_idr, validity_days, profile) values ('H', 'Home', 'pppoe', '10M/10M', 150000, 30, 'home')",
      [],
      'run',
    );
    await em.execute(
      "insert into customers (code, name) select 'C' || i, 'Customer ' || i from generate_series(1, 3) i",
      [],
      'run',
    );
    await em.execute(
      `insert into subscriptions (customer_id, plan_id, router_id, ppp_username, ppp_password_enc, period_start, period_end, status)
       select id, 1, 1, 'user' || id, 'v1:x:x:x', ?::timestamptz - interval '25 days', ?::timestamptz + interval '5 days', 'active'
         from customers`,
      [now, now],
      'run',
    );
    await em.execute(
      "insert into invoice_counters (series, last_number) values ('INV-2026', 999998)",
      [],
      'run',
    );

    const report = await t.runtime.cycle.run(now);

    expect(report.invoicesIssued.count).toBe(3);
    const numbers = (
      await t.runtime.orm.em
        .fork()
        .execute<Array<{ number: string }>>('select number from invoices order by id', [], 'all')
    ).map((r) => r.number);
    expect(numbers).toEqual([999_999, 1_000_000, 1_000_001].map((n) => formatInvoiceNumber('INV-2026', n)));
    expect(numbers).toEqual(['INV-2026-999999', 'INV-2026-1000000', 'INV-2026-1000001']);
    expect([...report.invoicesIssued.sample].sort()).toEqual([...numbers].sort());
  });
});
