// The exporter is ready before its probe processes have started: they start one per event-loop turn,
// after the configuration is loaded (1,000 targets used to hold /-/ready back for 16 s).
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

it(`answers /-/ready before the last of ${TARGETS} probe targets has sent anything`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-ready-'));
  const probes = Array.from(
    { length: TARGETS },
    (_, i) => `    - { name: L-${i}, host: 127.0.0.${1 + (i % 250)}, protocol: icmp, interval: 1s }`,
  ).join('\n');
  writeFileSync(join(dir, 'exporter.yml'), `listen: 127.0.0.1:0\ntargets:\n  probes:\n${probes}\n`);
  const exporter = new Exporter({ configFile: join(dir, 'exporter.yml'), logger: pino({ level: 'silent' }) });
  try {
    exporter.load();
    const base = `http://${await exporter.listen()}`;
    expect((await fetch(`${base}/-/ready`)).status).toBe(200);
    const sent = async (): Promise<number> =>
      Number(
        sampleValue(
          parseExposition(await (await fetch(`${base}/probe?target=L-${TARGETS - 1}`)).text()),
          'probe_packets_sent_total',
        ),
      );
    // ready came first; the last target is measured only after that
    expect(await sent()).toBe(0);
    await waitFor('the last target to be measured', async () => ((await sent()) > 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } finally {
    await exporter.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 40_000);
