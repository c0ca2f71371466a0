// The README's main command, `bash scripts/demo.sh`, ends in `node demo/dist/main.js`. This runs the same
// entry point with --once: every part starts, Prometheus scrapes every lab router, everything stops.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './support/paths.js';

const run = promisify(execFile);

describe('the demo stack (README main command)', () => {
  it('starts the lab, exporter, Prometheus and Alertmanager, and Prometheus scrapes every router', async () => {
    const entry = join(repoRoot, 'demo/dist/main.js');
    expect(existsSync(entry)).toBe(true); // built by `tsc -b`, which the test command runs first
    const { stdout } = await run(process.execPath, [entry, '--routers', '3', '--once'], {
      cwd: repoRoot,
      timeout: 90_000,
    });
    expect(stdout).toMatch(/Prometheus +http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/router-0003 +RouterOS 6\.49\.10 +api 127\.0\.0\.1:\d+/);
    expect(stdout).toContain('demo check: Prometheus scraped 3/3 routers through the exporter');
    expect(stdout).toContain('demo check: alert router ready');
    expect(stdout).toContain(
      'demo check: billing subscription provisioned on router-0001 with profile home-10M',
    );
    expect(stdout).toMatch(/billing +http:\/\/127\.0\.0\.1:\d+\/api\/v1\/subscriptions/);
    expect(stdout).toMatch(/alert router +http:\/\/127\.0\.0\.1:\d+\/api\/v1\/incidents/);
  }, 120_000);
});
