import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { RouterOsError } from '@ispmon/routeros';
import { CommandFailureLog } from './command-failures.js';

describe('failed RouterOS commands', () => {
  it('counts every failure and logs each command at most once per interval, with what was held back', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const registry = new Registry();
    const errors = new Counter({
      name: 'errors_total',
      help: 'x',
      labelNames: ['target', 'command', 'reason'] as const,
      registers: [registry],
    });
    let now = 0;
    const log = new CommandFailureLog(logger, errors, 60_000, () => now);
    const refused = {
      collector: 'interfaces',
      command: '/interface/ethernet',
      error: new RouterOsError('trap', 'not enough permissions (9)'),
    };
    const fine = { collector: 'interfaces', command: '/interface' };
    for (const t of [0, 10_000, 59_999, 60_000]) {
      now = t;
      log.report('r1', [fine, refused]);
    }
    log.report('r2', [refused]);
    expect(lines.map((l) => [l.target, l.command, l.routerMessage, l.suppressedSinceLast])).toEqual([
      ['r1', '/interface/ethernet', 'not enough permissions (9)', undefined],
      ['r1', '/interface/ethernet', 'not enough permissions (9)', 2],
      ['r2', '/interface/ethernet', 'not enough permissions (9)', undefined],
    ]);
    const values = (await errors.get()).values.map((v) => [v.labels.target, v.value]);
    expect(values).toEqual([
      ['r1', 4],
      ['r2', 1],
    ]);
  });
});
