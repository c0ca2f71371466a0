import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { canCreateProbeTargets, startProbeTargets, type ProbeTargets } from '@ispmon/lab';
import { Exporter } from '../app.js';
import { parseExposition, sampleValue } from '../testing/exposition-parser.js';

// Probe targets are network namespaces (root only; CI runs as root).
const describeAsRoot = canCreateProbeTargets() ? describe : describe.skip;

describeAsRoot('client-link probes against the lab probe targets', () => {
  let probes: ProbeTargets;
  let exporter: Exporter;
  let base = '';
  let dir = '';

  const read = async (target: string): Promise<{ sent: number; received: number; meanMs: number }> => {
    const res = await fetch(`${base}/probe?target=${target}&module=icmp`);
    const samples = parseExposition(await res.text());
    const count = Number(sampleValue(samples, 'probe_rtt_seconds_count'));
    return {
      sent: Number(sampleValue(samples, 'probe_packets_sent_total')),
      received: Number(sampleValue(samples, 'probe_packets_received_total')),
      meanMs: count ? (Number(sampleValue(samples, 'probe_rtt_seconds_sum')) / count) * 1000 : NaN,
    };
  };
  const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    probes = await startProbeTargets({ count: 2, firstIndex: 211 });
    dir = mkdtempSync(join(tmpdir(), 'ispmon-probes-test-'));
    const [a, b] = probes.targets;
    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0\ntargets:\n  probes:\n    - { name: L-0001, host: ${a?.address}, protocol: icmp, interval: 250ms, timeout: 1s, labels: { link: L-0001 } }\n    - { name: L-0002, host: ${b?.address}, protocol: tcp, port: ${b?.tcpPort}, interval: 250ms, timeout: 1s }\n`,
    );
    exporter = new Exporter({ configFile: join(dir, 'exporter.yml'), logger: pino({ level: 'silent' }) });
    exporter.load();
    base = `http://${await exporter.listen()}`;
  });
  afterAll(async () => {
    await exporter.close();
    await probes.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures continuously between scrapes: every probe answered on a healthy link', async () => {
    await settle(1_500);
    const r = await read('L-0001');
    expect(r.sent).toBeGreaterThanOrEqual(4);
    expect(r.received).toBe(r.sent);
    expect(r.meanMs).toBeLessThan(20);
  });

  it('sees the latency the lab adds', async () => {
    const before = await read('L-0001');
    probes.targets[0]!.setLatency(60);
    await settle(2_000);
    const after = await read('L-0001');
    const newRtt =
      (after.meanMs * after.received - before.meanMs * before.received) / (after.received - before.received);
    expect(newRtt).toBeGreaterThan(50);
    probes.targets[0]!.setLatency(1);
  });

  it('counts lost probes while the link is down, and recovers', async () => {
    const before = await read('L-0001');
    probes.targets[0]!.setDown(true);
    await settle(2_500);
    const down = await read('L-0001');
    expect(down.sent - before.sent).toBeGreaterThanOrEqual(3);
    expect(down.received - before.received).toBeLessThanOrEqual(1);
    probes.targets[0]!.setDown(false);
    await settle(3_000);
    const up = await read('L-0001');
    expect(up.received - down.received).toBeGreaterThanOrEqual(2);
  });

  it('measures TCP connect time where ICMP is not used', async () => {
    const res = await fetch(`${base}/probe?target=L-0002&module=tcp`);
    const samples = parseExposition(await res.text());
    expect(Number(sampleValue(samples, 'probe_packets_received_total'))).toBeGreaterThanOrEqual(3);
    expect(sampleValue(samples, 'probe_success')).toBe('1');
  });
});
