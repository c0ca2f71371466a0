import { jest } from '@jest/globals';
import { Migration } from '@mikro-orm/migrations';
import { pino } from 'pino';
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import {
  backoffDelay,
  isDatabaseUnavailable,
  JobRunner,
  openDatabase,
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
  });
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
