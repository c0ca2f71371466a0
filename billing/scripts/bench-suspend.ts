// Suspending 1,000 subscribers on one simulated MikroTik (target < 30 s): every subscriber has a live
// PPPoE session; one `apply` moves all secrets to the isolation profile and removes their sessions, a
// second one restores them. Run with pipelining (50 commands in flight) and without (1), on loopback and
// through a proxy that adds a round-trip time like a router across a WAN link. On loopback the simulator
// and the client share this process and the CPU is the limit, so pipelining changes little there; each
// round trip it saves is worth the RTT on a real link (2,002 commands × 10 ms = 20 s one at a time).
// Usage: npm run bench:suspend -w billing [-- N [rttMs]]   (defaults: 1000 subscribers, 10 ms)
import { createServer, connect, type Server, type Socket } from 'node:net';
import { startRouterLab } from '@ispmon/lab';
import { RouterOsGateway } from '../dist/provisioning/routeros-gateway.js';
import type { DesiredSecret, RouterEndpoint } from '../dist/provisioning/types.js';

const count = Number(process.argv[2] ?? 1_000);
const rttMs = Number(process.argv[3] ?? 10);
const fmt = (n: number): string => n.toLocaleString('en-US');

/** A TCP proxy that delays every chunk by half the round trip each way (order kept: equal timers run FIFO). */
async function latencyProxy(
  targetPort: number,
  oneWayMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    const pipe = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => setTimeout(() => to.write(chunk), oneWayMs));
      from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error('timed out waiting for the router');
    await new Promise((r) => setTimeout(r, 50));
  }
  return (performance.now() - started) / 1000;
}

interface Figures {
  suspend: number;
  suspendCommands: number;
  restore: number;
  restoreCommands: number;
}

async function run(maxInFlight: number, rtt: number): Promise<Figures> {
  const lab = await startRouterLab({
    routers: [{ name: 'bench-nas', version: '7.18.2', interfaces: 2, pppSessions: count }],
  });
  const router = lab.routers[0];
  if (!router) throw new Error('the lab started no router');
  const proxy = rtt > 0 ? await latencyProxy(router.port, rtt / 2) : undefined;
  const endpoint: RouterEndpoint = {
    name: router.name,
    host: router.host,
    port: proxy?.port ?? router.port,
    username: router.username,
    password: router.password,
    tls: false,
    timeoutMs: 30_000,
  };
  const plan: DesiredSecret[] = router.secrets().map((s, i) => ({
    name: s.name,
    password: s.password,
    service: 'pppoe',
    profile: s.profile,
    disabled: false,
    comment: `ispmon:sub=${i + 1}`,
  }));
  const everyone = new Set(plan.map((d) => d.name));
  const gateway = new RouterOsGateway({ maxInFlight });
  const setup = new RouterOsGateway();
  try {
    // Billing adopts the secrets (its comment on each) and makes sure the isolation profile exists;
    // not measured, so done straight to the router.
    const direct = { ...endpoint, port: router.port };
    await setup.apply(direct, plan, new Set());
    await setup.ensureProfiles(direct, [{ name: 'isolir', rateLimit: '256k/256k', addressList: 'isolir' }]);
    if (router.activeSessions().length !== count) throw new Error('not every subscriber is online');

    let sent = gateway.commandsSent;
    let started = performance.now();
    const suspended = await gateway.apply(
      endpoint,
      plan.map((d) => ({ ...d, profile: 'isolir' })),
      everyone,
    );
    const suspend = (performance.now() - started) / 1000;
    const suspendCommands = gateway.commandsSent - sent;
    const kicked = suspended.reduce((n, r) => n + r.sessionsKicked, 0);
    if (kicked !== count || suspended.some((r) => r.change !== 'updated'))
      throw new Error(`suspension kicked ${kicked} sessions`);
    // Each CPE redials within ~1.5 s and must land on the isolation profile.
    const redial = await waitFor(
      () =>
        router.activeSessions().length === count &&
        router.activeSessions().every((a) => a.profile === 'isolir'),
      10_000,
    );

    sent = gateway.commandsSent;
    started = performance.now();
    const restored = await gateway.apply(endpoint, plan, everyone);
    const restore = (performance.now() - started) / 1000;
    const restoreCommands = gateway.commandsSent - sent;
    if (restored.reduce((n, r) => n + r.sessionsKicked, 0) !== count)
      throw new Error('restore missed sessions');
    const byName = new Map(plan.map((d) => [d.name, d.profile]));
    await waitFor(
      () =>
        router.activeSessions().length === count &&
        router.activeSessions().every((a) => a.profile === byName.get(a.name)),
      10_000,
    );
    console.log(
      `  rtt ${String(rtt).padStart(2)} ms, ${String(maxInFlight).padStart(2)} in flight: suspend ${suspend.toFixed(2)} s (${fmt(suspendCommands)} commands, ${fmt(kicked)} sessions kicked, all back on isolir ${redial.toFixed(1)} s later), restore ${restore.toFixed(2)} s (${fmt(restoreCommands)} commands)`,
    );
    return { suspend, suspendCommands, restore, restoreCommands };
  } finally {
    await setup.close();
    await gateway.close();
    await proxy?.close();
    await lab.stop();
  }
}

console.log(
  `suspending and restoring ${fmt(count)} subscribers on one simulated router (isolation profile + kick)`,
);
// The machine is shared: loopback runs, being short, are repeated and the median kept.
const median = (runs: Figures[]): Figures => {
  const mid = (pick: (f: Figures) => number): number =>
    runs.map(pick).sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? Number.NaN;
  return {
    suspend: mid((f) => f.suspend),
    suspendCommands: mid((f) => f.suspendCommands),
    restore: mid((f) => f.restore),
    restoreCommands: mid((f) => f.restoreCommands),
  };
};
const rows: Array<[number, Figures, Figures]> = [];
for (const rtt of [0, rttMs]) {
  const repeats = rtt === 0 ? 3 : 1;
  const piped: Figures[] = [];
  const serial: Figures[] = [];
  for (let i = 0; i < repeats; i++) {
    piped.push(await run(50, rtt));
    serial.push(await run(1, rtt));
  }
  rows.push([rtt, median(piped), median(serial)]);
}
for (const [rtt, piped, serial] of rows)
  console.log(
    `rtt ${rtt} ms (median): suspend ${piped.suspend.toFixed(2)} s pipelined vs ${serial.suspend.toFixed(2)} s one at a time (${(serial.suspend / piped.suspend).toFixed(1)}×), restore ${piped.restore.toFixed(2)} s vs ${serial.restore.toFixed(2)} s (${(serial.restore / piped.restore).toFixed(1)}×)`,
  );
const worst = Math.max(...rows.map(([, p]) => p.suspend));
console.log(`suspending ${fmt(count)}: ${worst.toFixed(2)} s at worst, pipelined (target < 30 s)`);
