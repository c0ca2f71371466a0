// The exporter as an operator runs it: SIGHUP reloads the configuration file, SIGTERM shuts it down cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouterLab, type RouterLab } from '@ispmon/lab';
import { freePort, waitFor } from '@ispmon/testkit';
import { repoRoot } from './support/paths.js';

describe('exporter process signals', () => {
  let lab: RouterLab;
  let child: ChildProcess | undefined;
  let dir = '';
  beforeAll(async () => {
    lab = await startRouterLab({
      routers: [{ name: 'r1', version: '7.12.1', interfaces: 2, pppSessions: 1 }],
    });
    dir = mkdtempSync(join(tmpdir(), 'ispmon-exporter-signals-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads on SIGHUP and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const config = join(dir, 'exporter.yml');
    writeFileSync(config, 'targets:\n  routers: []\n');
    child = spawn(process.execPath, [join(repoRoot, 'exporter/dist/main.js')], {
      env: {
        ...process.env,
        ISPMON_EXPORTER_CONFIG: config,
        ISPMON_EXPORTER_LISTEN: `127.0.0.1:${port}`,
        LOG_LEVEL: 'silent',
      },
      stdio: 'ignore',
    });
    const probe = (): Promise<number> =>
      fetch(`http://127.0.0.1:${port}/probe?target=r1`).then((r) => r.status);
    await waitFor(
      'exporter ready',
      async () => ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(await probe()).toBe(400);
    const r1 = lab.router('r1');
    writeFileSync(
      config,
      `targets:\n  routers:\n    - { name: r1, host: 127.0.0.1, port: ${r1.port}, username: admin, password: lab-password }\n`,
    );
    child.kill('SIGHUP');
    await waitFor('r1 known after SIGHUP', async () => ((await probe()) === 200 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  });
});
