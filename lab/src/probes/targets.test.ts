import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { canCreateProbeTargets, startProbeTargets, type ProbeTargets } from './targets.js';

const run = promisify(execFile);

/** Mean RTT (ms) and received count of 5 pings 200 ms apart. */
async function ping(address: string): Promise<{ received: number; avgMs?: number }> {
  const { stdout } = await run('ping', ['-c', '5', '-i', '0.2', '-W', '1', address]).catch(
    (e: { stdout: string }) => ({ stdout: e.stdout }),
  );
  const received = Number(/(\d+) received/.exec(stdout)?.[1] ?? 0);
  const avg = /= [\d.]+\/([\d.]+)\//.exec(stdout)?.[1];
  return avg ? { received, avgMs: Number(avg) } : { received };
}

// Namespaces need root (CAP_NET_ADMIN); CI runs as root. Elsewhere these tests are skipped, said here.
const describeAsRoot = canCreateProbeTargets() ? describe : describe.skip;

describeAsRoot('probe targets (network namespaces with a programmable responder)', () => {
  let probes: ProbeTargets;
  beforeAll(async () => {
    probes = await startProbeTargets({ count: 2, firstIndex: 201 });
  });
  afterAll(async () => {
    await probes.stop();
  });

  it('answers ping with the configured latency, and changes within a second', async () => {
    const t = probes.targets[0]!;
    expect((await ping(t.address)).received).toBe(5);
    t.setLatency(40);
    const slow = await ping(t.address);
    expect(slow.received).toBe(5);
    expect(slow.avgMs).toBeGreaterThan(38);
    expect(slow.avgMs).toBeLessThan(80);
    t.setLatency(1);
  });

  it('loses every reply at 100% loss, and none once restored', async () => {
    const t = probes.targets[0]!;
    t.setLoss(1);
    expect((await ping(t.address)).received).toBe(0);
    t.setLoss(0);
    expect((await ping(t.address)).received).toBe(5);
  });

  it('goes down and comes back, leaving the other target alone', async () => {
    const [a, b] = probes.targets;
    a!.setDown(true);
    expect((await ping(a!.address)).received).toBe(0);
    expect((await ping(b!.address)).received).toBe(5);
    a!.setDown(false);
    expect((await ping(a!.address)).received).toBe(5);
  });

  it('accepts TCP connections for TCP-connect probes', async () => {
    const t = probes.targets[1]!;
    await new Promise<void>((resolve, reject) => {
      const s = connect(t.tcpPort, t.address, () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  });
});
