import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@ispmon/local-servers';
import { cleanEarlierRun, processesUsing, writeRunRecord } from './cleanup.js';

const root = process.getuid?.() === 0;
if (!root && process.env.CI === 'true') throw new Error('cleanup.test.ts needs root (network namespaces)');
if (!root) console.warn('SKIPPING the namespace part of cleanup.test.ts: needs root');

describe('cleaning what a killed demo run left', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'ispmon-cleanup-test-'));
    chmodSync(parent, 0o755);
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  (root || process.env.CI === 'true' ? it : it.skip)(
    'stops its processes, removes its namespaces and its directory',
    async () => {
      const work = join(parent, 'demo');
      mkdirSync(join(work, 'tmp'), { recursive: true });
      // A namespace named as the lab names them, owned by a pid that no longer runs.
      const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      await new Promise((r) => dead.once('exit', r));
      const ns = `ispmon-p${dead.pid}-1`;
      execFileSync('ip', ['netns', 'add', ns]);
      // A leftover server: its command line names the work directory, as every child of a run does.
      const leftover = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', `${work}/tmp/server`], {
        stdio: 'ignore',
      });
      writeRunRecord(work, { pid: dead.pid ?? 0, startedAt: new Date().toISOString(), namespaces: [ns] });
      await waitFor('the leftover running', async () =>
        processesUsing(`${work}/`).length ? true : undefined,
      );

      const done = await cleanEarlierRun(work);
      expect(done).toEqual(expect.arrayContaining([`stopped leftover process ${leftover.pid}`]));
      await waitFor('the leftover gone', async () =>
        leftover.exitCode !== null || leftover.signalCode ? true : undefined,
      );
      expect(existsSync(work)).toBe(false);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`${ns} `);
    },
  );

  it('refuses while the run that wrote the record is alive', async () => {
    const work = join(parent, 'demo');
    mkdirSync(work, { recursive: true });
    const demo = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'demo'], { stdio: 'ignore' });
    try {
      writeRunRecord(work, { pid: demo.pid ?? 0, startedAt: new Date().toISOString(), namespaces: [] });
      await expect(cleanEarlierRun(work)).rejects.toThrow(
        `another demo (pid ${demo.pid}) is running with ${work}`,
      );
      expect(existsSync(join(work, 'run.json'))).toBe(true);
    } finally {
      const exited = new Promise((r) => demo.once('exit', r));
      demo.kill();
      await exited;
    }
  });
});
