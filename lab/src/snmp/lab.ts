// The SNMP lab: Debian's snmpsim serving recordings of real devices that its package ships (a Cisco
// Catalyst 3750 switch and a Linux host), generated devices (a switch whose counters move, an OLT-like
// optical table), and Debian's snmpd as a live agent, with v2c communities and a v3 authPriv user.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findBinary, freePort, ServerProcess, waitFor } from '@ispmon/local-servers';

const EXAMPLES = '/usr/share/doc/snmpsim/examples/data';

export interface SnmpV3User {
  user: string;
  authProtocol: 'SHA';
  authKey: string;
  privProtocol: 'AES';
  privKey: string;
}

export interface SnmpEndpoint {
  /** What answers here. */
  device: string;
  host: string;
  port: number;
  /** v2c community (for snmpsim it selects the device's data file). */
  community: string;
  /** v3 user; with snmpsim the context name selects the device. */
  v3: SnmpV3User;
  v3Context: string;
  agent: 'snmpsim' | 'snmpd';
}

export interface SnmpLab {
  endpoints: SnmpEndpoint[];
  endpoint(device: string): SnmpEndpoint;
  /** Make an agent stop answering (SIGSTOP) or answer again (SIGCONT). */
  pause(agent: 'snmpsim' | 'snmpd', paused: boolean): void;
  stop(): Promise<void>;
}

export interface SnmpLabOptions {
  /** Ports of the generated switch (default 24). */
  switchPorts?: number;
  /** Also serve `lab-switch-large`, the same generated switch with this many ports (an aggregation
   * switch or OLT of the size ISPs run: 2,000 interfaces). */
  largeSwitchPorts?: number;
  /** Start Debian's snmpd as well (default true). */
  snmpd?: boolean;
}

export const V3_USER: SnmpV3User = {
  user: 'ispmon',
  authProtocol: 'SHA',
  authKey: 'lab-auth-pass',
  privProtocol: 'AES',
  privKey: 'lab-priv-pass',
};

function unprivileged(): { uid: number; gid: number; user: string; group: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = (line ?? 'nobody:x:65534:65534').split(':');
  const group =
    readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === gid)
      ?.split(':')[0] ?? 'nogroup';
  return { uid: Number(uid), gid: Number(gid), user: 'nobody', group };
}

/**
 * A switch with IF-MIB (ifTable + ifXTable) whose octet counters grow (snmpsim's numeric variation), or
 * stay as recorded with `moving: false` (each variation costs snmpsim a module call per value read,
 * which makes a 2,000-port switch with moving counters much slower to walk than a recording).
 */
export function generatedSwitch(ports: number, { moving = true }: { moving?: boolean } = {}): string {
  const counter = (type: 65 | 70, rate: number, initial: number): string =>
    moving
      ? `${type}:numeric|rate=${rate},initial=${initial}${type === 65 ? ',wrap=1' : ''}`
      : `${type}|${initial}`;
  const lines: string[] = [
    `1.3.6.1.2.1.1.1.0|4|ispmon lab switch, ${ports}x10G`,
    '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10',
    '1.3.6.1.2.1.1.3.0|67:numeric|rate=100,initial=360000',
    '1.3.6.1.2.1.1.5.0|4|lab-switch-1',
    `1.3.6.1.2.1.2.1.0|2|${ports}`,
  ];
  const col = (c: number, f: (i: number) => string): void => {
    for (let i = 1; i <= ports; i++) lines.push(`1.3.6.1.2.1.2.2.1.${c}.${i}|${f(i)}`);
  };
  col(1, (i) => `2|${i}`);
  col(2, (i) => `4|TenGigabitEthernet1/0/${i}`);
  col(3, () => '2|6');
  col(5, () => '66|4294967295');
  col(7, () => '2|1');
  col(8, (i) => `2|${i === 3 ? 2 : 1}`); // port 3: admin up, oper down
  col(10, (i) => counter(65, 1000 * i, i * 100000));
  col(13, () => '65|0');
  col(14, (i) => `65|${i === 5 ? 17 : 0}`);
  col(16, (i) => counter(65, 500 * i, i * 50000));
  col(19, () => '65|0');
  col(20, () => '65|0');
  const x = (c: number, f: (i: number) => string): void => {
    for (let i = 1; i <= ports; i++) lines.push(`1.3.6.1.2.1.31.1.1.1.${c}.${i}|${f(i)}`);
  };
  x(1, (i) => `4|Te1/0/${i}`);
  // HC counters: one starts past 2^53 so exactness shows.
  x(6, (i) => (i === 1 ? '70|9007199254740993' : counter(70, 1_000_000 * i, i * 10_000_000)));
  x(7, (i) => `70|${i * 1000}`);
  x(10, (i) => counter(70, 500_000 * i, i * 5_000_000));
  x(15, () => '66|10000');
  x(18, (i) => `4|${i === 1 ? 'uplink to core-1' : i === 2 ? 'Pelanggan PT Maju Jaya' : ''}`);
  return `${lines.sort(compareOids).join('\n')}\n`;
}

/** An OLT-like table: optical receive power per PON port, in a vendor subtree (tenths of dBm). */
export function generatedOlt(ports = 8): string {
  const lines = ['1.3.6.1.2.1.1.1.0|4|ispmon lab OLT', '1.3.6.1.2.1.1.5.0|4|lab-olt-1'];
  for (let i = 1; i <= ports; i++) {
    lines.push(`1.3.6.1.4.1.99999.1.1.1.2.${i}|4|pon-0/${i}`);
    lines.push(`1.3.6.1.4.1.99999.1.1.1.3.${i}|2|${-180 - i * 5}`);
  }
  return `${lines.sort(compareOids).join('\n')}\n`;
}

function compareOids(a: string, b: string): number {
  const x = (a.split('|')[0] ?? '').split('.').map(Number);
  const y = (b.split('|')[0] ?? '').split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

async function answers(host: string, port: number, community: string): Promise<true | undefined> {
  const r = spawnSync(
    'snmpget',
    ['-v2c', '-c', community, '-t', '0.5', '-r', '0', '-On', `${host}:${port}`, '1.3.6.1.2.1.1.5.0'],
    { encoding: 'utf8' },
  );
  return r.status === 0 && r.stdout.includes('1.3.6.1.2.1.1.5.0') ? true : undefined;
}

export async function startSnmpLab(options: SnmpLabOptions = {}): Promise<SnmpLab> {
  const snmpsimd = findBinary('snmpsimd', 'snmpsim');
  findBinary('snmpget', 'snmp');
  const host = '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-snmp-'));
  const data = join(dir, 'data');
  const cache = join(dir, 'cache');
  mkdirSync(data);
  mkdirSync(cache);
  writeFileSync(
    join(data, 'cisco-c3750.snmprec'),
    gunzipSync(readFileSync(join(EXAMPLES, 'cisco_16_switch.snmprec.gz'))),
  );
  writeFileSync(
    join(data, 'linux-host.snmprec'),
    gunzipSync(readFileSync(join(EXAMPLES, 'recorded/linux-full-walk.snmprec.gz'))),
  );
  writeFileSync(join(data, 'lab-switch.snmprec'), generatedSwitch(options.switchPorts ?? 24));
  writeFileSync(join(data, 'lab-olt.snmprec'), generatedOlt());
  if (options.largeSwitchPorts)
    writeFileSync(
      join(data, 'lab-switch-large.snmprec'),
      generatedSwitch(options.largeSwitchPorts, { moving: false }),
    );
  const user = unprivileged();
  if (user) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  chmodSync(dir, 0o755);

  const simPort = await freePort();
  const sim = ServerProcess.start('snmpsimd', snmpsimd, [
    `--data-dir=${data}`,
    `--cache-dir=${cache}`,
    `--agent-udpv4-endpoint=${host}:${simPort}`,
    `--v3-user=${V3_USER.user}`,
    `--v3-auth-key=${V3_USER.authKey}`,
    `--v3-auth-proto=${V3_USER.authProtocol}`,
    `--v3-priv-key=${V3_USER.privKey}`,
    `--v3-priv-proto=${V3_USER.privProtocol}`,
    '--logging-method=null',
    ...(user ? [`--process-user=${user.user}`, `--process-group=${user.group}`] : []),
  ]);
  const processes: Array<{ agent: 'snmpsim' | 'snmpd'; proc: ServerProcess }> = [
    { agent: 'snmpsim', proc: sim },
  ];
  const devices = ['cisco-c3750', 'linux-host', 'lab-switch', 'lab-olt'];
  if (options.largeSwitchPorts) devices.push('lab-switch-large');
  const endpoints: SnmpEndpoint[] = devices.map((device) => ({
    device,
    host,
    port: simPort,
    community: device,
    v3: V3_USER,
    v3Context: device,
    agent: 'snmpsim',
  }));
  try {
    // snmpsim indexes the data files on first start (the 51,000-line Cisco walk takes a few seconds).
    await waitFor(
      'snmpsimd answering',
      async () => {
        sim.assertRunning();
        return answers(host, simPort, 'lab-switch');
      },
      // snmpsimd indexes its data files at start: over 60 s at a load of 30
      { timeoutMs: 120_000, intervalMs: 200 },
    );

    if (options.snmpd !== false) {
      const snmpd = findBinary('snmpd', 'snmpd', ['/usr/sbin']);
      const port = await freePort();
      const persistent = join(dir, 'snmpd-persist');
      mkdirSync(persistent);
      if (user) chownSync(persistent, user.uid, user.gid);
      const conf = join(dir, 'snmpd.conf');
      writeFileSync(
        conf,
        [
          `agentAddress udp:${host}:${port}`,
          'rocommunity ispmon-lab 127.0.0.1',
          `createUser ${V3_USER.user} SHA "${V3_USER.authKey}" AES "${V3_USER.privKey}"`,
          `rouser ${V3_USER.user} priv`,
          'sysName lab-snmpd',
          'sysLocation ispmon device lab',
          'sysContact noc@example.net',
          '',
        ].join('\n'),
      );
      const proc = ServerProcess.start('snmpd', snmpd, [
        '-f',
        '-Lo',
        '-C',
        '-c',
        conf,
        `--persistentDir=${persistent}`,
        ...(user ? ['-u', String(user.uid), '-g', String(user.gid)] : []),
      ]);
      processes.push({ agent: 'snmpd', proc });
      await waitFor(
        'snmpd answering',
        async () => {
          proc.assertRunning();
          return answers(host, port, 'ispmon-lab');
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      endpoints.push({
        device: 'snmpd',
        host,
        port,
        community: 'ispmon-lab',
        v3: V3_USER,
        v3Context: '',
        agent: 'snmpd',
      });
    }
  } catch (err) {
    for (const p of processes) await p.proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    endpoints,
    endpoint(device: string): SnmpEndpoint {
      const e = endpoints.find((x) => x.device === device);
      if (!e) throw new Error(`no SNMP lab device ${device}`);
      return e;
    },
    pause(agent, paused) {
      for (const p of processes) if (p.agent === agent) p.proc.child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    },
    async stop(): Promise<void> {
      for (const p of processes) {
        p.proc.child.kill('SIGCONT');
        await p.proc.stop();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
