import { jest } from '@jest/globals';
import { Migration } from '@mikro-orm/migrations';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import {
  AdvisoryJobLock,
  backoffDelay,
  isDatabaseUnavailable,
  JobHeldElsewhereError,
  JobRunner,
  openDatabase,
  readiness,
  RoleLadder,
  stopOnSignals,
} from './index.js';

const silent = pino({ level: 'silent' });

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, with jitter around the nominal delay', () => {
    const policy = { baseMs: 1_000, maxMs: 600_000, jitter: 0.5 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffDelay(30, policy, () => 0.5)).toBe(600_000);
    expect(backoffDelay(1, policy, () => 0)).toBe(750);
    expect(backoffDelay(1, policy, () => 1)).toBe(1_250);
    expect(backoffDelay(2_000, policy, () => 0.5)).toBe(600_000);
  });
});

describe('RoleLadder', () => {
  it('lets a role do what lower roles do and nothing above', () => {
    const ladder = new RoleLadder(['viewer', 'billing', 'admin'] as const);
    expect(ladder.allows('admin', 'viewer')).toBe(true);
    expect(ladder.allows('billing', 'billing')).toBe(true);
    expect(ladder.allows('billing', 'admin')).toBe(false);
    expect(ladder.allows('viewer', 'billing')).toBe(false);
    expect(ladder.isRole('operator')).toBe(false);
  });
});

describe('JobRunner', () => {
  it('never overlaps a job with itself, runs it on demand and waits for it on stop', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const runner = new JobRunner(silent).add({
      name: 'round',
      everyMs: 0,
      run: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => (release = r));
        active -= 1;
        return ++runs;
      },
    });
    const first = runner.runNow<number>('round');
    const second = runner.runNow<number>('round');
    await new Promise((r) => setImmediate(r));
    release();
    await expect(first).resolves.toBe(1);
    await new Promise((r) => setImmediate(r));
    const stopped = runner.stop(5_000);
    release();
    await expect(second).resolves.toBe(2);
    await stopped;
    expect(maxActive).toBe(1);
    expect(runner.isStopping).toBe(true);
  });

  it('skips a timer tick while the round it started still runs, instead of queueing rounds behind it', async () => {
    jest.useFakeTimers();
    const runner = new JobRunner(silent);
    try {
      let starts = 0;
      let release: () => void = () => undefined;
      runner.add({
        name: 'slow',
        everyMs: 1_000,
        run: async () => {
          starts += 1;
          await new Promise<void>((r) => (release = r));
        },
      });
      runner.start();
      jest.advanceTimersByTime(1_000);
      expect(starts).toBe(1);
      jest.advanceTimersByTime(5_000);
      expect(starts).toBe(1);
      release();
      await jest.advanceTimersByTimeAsync(0);
      expect(starts).toBe(1);
      jest.advanceTimersByTime(1_000);
      expect(starts).toBe(2);
      release();
    } finally {
      await runner.stop(0);
      jest.useRealTimers();
    }
  });

  it('rethrows a failed round to the caller and keeps the job usable', async () => {
    let fail = true;
    const runner = new JobRunner(silent).add({
      name: 'flaky',
      everyMs: 0,
      run: async () => {
        if (fail) throw new Error('router unreachable');
        return 'ok';
      },
    });
    await expect(runner.runNow('flaky')).rejects.toThrow('router unreachable');
    fail = false;
    await expect(runner.runNow('flaky')).resolves.toBe('ok');
    await expect(runner.runNow('missing')).rejects.toThrow("no job named 'missing'");
  });
});

describe('readiness', () => {
  it('is ready with its database, and not ready while shutting down or without the database', async () => {
    const up = async (): Promise<number> => 1;
    const down = async (): Promise<never> => {
      throw new Error('connect ECONNREFUSED');
    };
    expect(await readiness({ stopping: () => false, database: up })).toEqual({
      status: 200,
      body: { status: 'ready' },
    });
    expect(await readiness({ stopping: () => true, database: up })).toEqual({
      status: 503,
      body: { status: 'shutting down' },
    });
    expect(await readiness({ stopping: () => false, database: down })).toEqual({
      status: 503,
      body: { status: 'database unavailable' },
    });
    let stopping = false;
    const slow = async (): Promise<void> => {
      stopping = true; // the stop begins during the round trip
    };
    expect((await readiness({ stopping: () => stopping, database: slow })).body.status).toBe('shutting down');
  });
});

describe('stopOnSignals', () => {
  it('a second signal waits for the first stop instead of cutting it short', async () => {
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
    let finish: () => void = () => undefined;
    let stops = 0;
    const exits: number[] = [];
    stopOnSignals(
      silent,
      () => {
        stops += 1;
        return new Promise<void>((r) => (finish = r));
      },
      (code) => exits.push(code),
    );
    try {
      process.emit('SIGTERM');
      process.emit('SIGINT');
      await new Promise((r) => setImmediate(r));
      expect(stops).toBe(1);
      expect(exits).toEqual([]);
      finish();
      await new Promise((r) => setImmediate(r));
      expect(exits).toEqual([0]);
    } finally {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const listeners = process.listeners(signal);
        const keep = signal === 'SIGTERM' ? before.term : before.int;
        for (const l of listeners.slice(keep)) process.off(signal, l);
      }
    }
  });
});

describe('openDatabase and isDatabaseUnavailable on a real PostgreSQL', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it('applies migrations once, and reads a stopped server as unavailable but a bad query as not', async () => {
    const url = await pg.createDatabase();
    class CreateWidgets extends Migration {
      override up(): void {
        this.addSql('create table widgets (id int primary key)');
      }
    }
    const migrationsList = [{ name: '0001-widgets', class: CreateWidgets }];
    await (await openDatabase(url, { entities: [], migrationsList })).close();
    const orm = await openDatabase(url, { entities: [], migrationsList });
    try {
      const applied = await orm.em.fork().execute('select name from mikro_orm_migrations');
      expect(applied).toEqual([{ name: '0001-widgets' }]);
      const badQuery = await orm.em
        .fork()
        .execute('select * from no_such_table')
        .catch((e: unknown) => e);
      expect(isDatabaseUnavailable(badQuery)).toBe(false);
      await pg.crash();
      const down = await orm.em
        .fork()
        .execute('select 1')
        .catch((e: unknown) => e);
      expect(down).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(down)).toBe(true);
      await pg.start();
    } finally {
      await orm.close();
    }
  });

  it('answers false for values that are not errors', () => {
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
    expect(isDatabaseUnavailable({ code: '23505', message: 'duplicate key value' })).toBe(false);
  });
});

describe('singleton jobs across replicas (AdvisoryJobLock on a real PostgreSQL)', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
  });

  const replica = (url: string, name: string, runs: string[], everyMs = 0) => {
    const registry = new Registry();
    const runner = new JobRunner(silent, () => new Date(), {
      lock: new AdvisoryJobLock(url, 'kit-test', silent),
      registry,
    })
      .add({
        name: 'cycle',
        everyMs,
        singleton: true,
        run: async () => void runs.push(name),
      })
      .add({ name: 'outbox', everyMs: 0, run: async () => name });
    return { runner, registry };
  };
  const value = async (registry: Registry, metric: string, labels: Record<string, string>) => {
    const m = (await registry.getSingleMetric(metric)?.get())?.values.find((v) =>
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
    );
    return m?.value;
  };

  it('runs a singleton job on one replica only; the other takes it over when the first stops or dies', async () => {
    const url = await pg.createDatabase();
    const runs: string[] = [];
    const a = replica(url, 'a', runs);
    const b = replica(url, 'b', runs);
    try {
      await a.runner.runNow('cycle');
      await expect(b.runner.runNow('cycle')).rejects.toBeInstanceOf(JobHeldElsewhereError);
      await a.runner.runNow('cycle');
      // Jobs that are not singletons run on every replica.
      expect(await Promise.all([a.runner.runNow('outbox'), b.runner.runNow('outbox')])).toEqual(['a', 'b']);
      expect(runs).toEqual(['a', 'a']);
      expect(await value(a.registry, 'ispmon_job_singleton_held', { job_name: 'cycle' })).toBe(1);
      expect(await value(b.registry, 'ispmon_job_singleton_held', { job_name: 'cycle' })).toBe(0);

      // A replica whose PostgreSQL session dies (a SIGKILLed process) loses the lock with it.
      const [killed] = await pg.query<{ ok: boolean }>(
        "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'kit-test job lock' and pid in (select pid from pg_locks where locktype = 'advisory' and granted)",
        [],
        new URL(url).pathname.slice(1),
      );
      expect(killed?.ok).toBe(true);
      await waitFor(
        'b to take the job over',
        () =>
          b.runner.runNow('cycle').then(
            () => true,
            () => undefined,
          ),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      await expect(a.runner.runNow('cycle')).rejects.toBeInstanceOf(JobHeldElsewhereError);
      expect(await value(a.registry, 'ispmon_job_singleton_held', { job_name: 'cycle' })).toBe(0);

      // A graceful stop hands it back at once.
      await b.runner.stop(1_000);
      await a.runner.runNow('cycle');
      expect(runs).toEqual(['a', 'a', 'b', 'a']);
    } finally {
      await Promise.all([a.runner.stop(1_000), b.runner.stop(1_000)]);
    }
  });

  it('on timers, only the holder runs rounds; the other replica counts them as skipped', async () => {
    const url = await pg.createDatabase();
    const runs: string[] = [];
    const a = replica(url, 'a', runs, 40);
    const b = replica(url, 'b', runs, 40);
    a.runner.start();
    b.runner.start();
    try {
      await waitFor('10 rounds', async () => (runs.length >= 10 ? true : undefined), { timeoutMs: 30_000 });
      expect(new Set(runs).size).toBe(1);
      const holder = runs[0] === 'a' ? a : b;
      const other = holder === a ? b : a;
      await waitFor(
        'the other replica to skip rounds',
        async () =>
          ((await value(other.registry, 'ispmon_job_rounds_total', {
            job_name: 'cycle',
            outcome: 'skipped',
          })) ?? 0) > 0
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      expect(
        await value(other.registry, 'ispmon_job_rounds_total', { job_name: 'cycle', outcome: 'ok' }),
      ).toBe(0);
      expect(
        await value(holder.registry, 'ispmon_job_rounds_total', { job_name: 'cycle', outcome: 'ok' }),
      ).toBeGreaterThanOrEqual(10);
    } finally {
      await Promise.all([a.runner.stop(1_000), b.runner.stop(1_000)]);
    }
  });

  it('migrates once when two replicas open an empty database at the same time', async () => {
    const url = await pg.createDatabase();
    class CreateGadgets extends Migration {
      override up(): void {
        this.addSql('create table gadgets (id int primary key)');
        this.addSql('select pg_sleep(0.5)'); // long enough for the two openings to overlap
      }
    }
    const migrationsList = [{ name: '0001-gadgets', class: CreateGadgets }];
    const orms = await Promise.all([0, 1].map(() => openDatabase(url, { entities: [], migrationsList })));
    try {
      expect(await orms[0]?.em.fork().execute('select name from mikro_orm_migrations')).toEqual([
        { name: '0001-gadgets' },
      ]);
    } finally {
      await Promise.all(orms.map((o) => o.close()));
    }
  });
});
