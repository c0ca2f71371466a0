// The exporter is ready before its probe processes have started: they start after the configuration is
// loaded, one per event-loop turn (1,000 targets with a ping process each used to hold /-/ready back for
// 16 s), and readiness does not depend on them at all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { waitFor } from '@ispmon/testkit';
import { Exporter } from '../app.js';
import { parseExposition, sampleValue } from '../../test/support/exposition-parser.js';
import { ProbeScheduler } from './measure.js';

const TARGETS = 20;

it('starts no probe process inside sync(): the runners start afterwards, one per turn', async () => {
  const scheduler = new ProbeScheduler();
  try {
    scheduler.sync(
      Array.from({ length: TARGETS }, (_, i) => ({
        name: `L-${i}`,
        host: '127.0.0.1',
        protocol: 'icmp' as const,
        intervalMs: 1_000,
        timeoutMs: 1_000,
      })),
    );
    expect(scheduler.waitingToStart).toBe(TARGETS);
    await waitFor('every runner to start', async () => (scheduler.waitingToStart === 0 ? true : undefined));
  } finally {
    scheduler.stop();
  }
});

// With one fping process for all targets, the last target's first reply comes a few ms after the first's,
// so "ready before the last target sent anything" no longer tells anything; ready while no probe can start
// at all (no fping on PATH) does, and the targets are measured once fping is found.
it(`answers /-/ready while none of ${TARGETS} probe targets can be measured, and measures them later`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-ready-'));
  const savedPath = process.env.PATH;
  const probes = Array.from(
    { length: TARGETS },
    (_, i) => `    - { name: L-${i}, host: 127.0.0.${1 + (i % 250)}, protocol: icmp, interval: 1s }`,
  ).join('\n');
  writeFileSync(join(dir, 'exporter.yml'), `listen: 127.0.0.1:0\ntargets:\n  probes:\n${probes}\n`);
  const exporter = new Exporter({ configFile: join(dir, 'exporter.yml'), logger: pino({ level: 'silent' }) });
  const read = async (name: string): Promise<string> => (await fetch(`${base}/probe?target=${name}`)).text();
  let base = '';
  try {
    process.env.PATH = dir; // no fping here
    exporter.load();
    base = `http://${await exporter.listen()}`;
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    await waitFor('a failed start of the last target', async () =>
      Number(sampleValue(parseExposition(await read(`L-${TARGETS - 1}`)), 'probe_start_failures_total')) > 0
        ? true
        : undefined,
    );
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    process.env.PATH = savedPath;
    const sent = async (): Promise<number> =>
      Number(sampleValue(parseExposition(await read(`L-${TARGETS - 1}`)), 'probe_packets_sent_total'));
    await waitFor('the last target to be measured', async () => ((await sent()) > 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } finally {
    process.env.PATH = savedPath;
    await exporter.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 40_000);
