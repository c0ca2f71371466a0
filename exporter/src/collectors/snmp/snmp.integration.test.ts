// SNMP modules against real agents: the device lab's snmpsimd serving Debian's recorded walks of real
// devices (a Cisco 3750 switch, a Linux host) and its snmpd for SNMPv3, plus an own snmpsimd serving a
// generated switch/OLT with the edge cases the recordings lack. Every value is compared with what
// Debian's snmpbulkwalk reads from the same agent.
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { startSnmpLab, V3_USER, type SnmpLab } from '@ispmon/lab';
import { findBinary, freePort, waitFor } from '@ispmon/testkit';
import { encodeText, type MetricFamily } from '../../exposition.js';
import type { SnmpTarget } from '../../snmp/session.js';
import {
  snmpBulkWalk,
  startSnmpSim,
  type ReferenceValue,
  type SnmpAgentHandle,
} from '../../../test/support/snmp-agents.js';
import { startUdpRelay, type UdpRelay } from '../../../test/support/udp-relay.js';
import { DEFAULT_SCRAPE_DEADLINE_MS, scrapeDeadlineMs, scrapeSnmpTarget } from './engine.js';
import { generatedSwitch, OLT_BASE, OLT_MODULE } from '../../../test/support/snmp-devices.js';
import { parseSnmpModule } from './config.js';
import { CAMEL_CASE_COMPAT_NAMES, HOST_RESOURCES_MIB, IF_MIB, SYSTEM_MIB } from './modules.js';

const V3 = V3_USER;
/** The tests' device names → the lab's (its community selects the recording). */
const LAB_DEVICES: Record<string, string> = { cisco: 'cisco-c3750', linux: 'linux-host' };

let lab: SnmpLab;
/** Serves only `generated` (the edge-case switch and OLT table), which the lab has no equivalent of. */
let sim: SnmpAgentHandle;
let silent: Socket;
let silentPort: number;

beforeAll(async () => {
  [lab, sim] = await Promise.all([
    startSnmpLab(),
    startSnmpSim({ devices: { generated: generatedSwitch() } }),
  ]);
  // An "agent" that receives and never answers.
  silentPort = await freePort();
  silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(silentPort, '127.0.0.1', resolve));
}, 180_000);

afterAll(async () => {
  silent?.close();
  await Promise.all([lab?.stop(), sim?.stop()]);
});

function community(device: string): string {
  return LAB_DEVICES[device] ?? device;
}

function agentPort(device: string): number {
  const labDevice = LAB_DEVICES[device];
  return labDevice ? lab.endpoint(labDevice).port : sim.port;
}

function v2c(device: string, port = agentPort(device), extra: Partial<SnmpTarget> = {}): SnmpTarget {
  return {
    name: device,
    host: '127.0.0.1',
    port,
    version: '2c',
    community: community(device),
    maxRepetitions: 25,
    timeoutMs: 5000,
    retries: 1,
    ...extra,
  };
}

function family(families: MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name} in ${families.map((x) => x.name).join(', ')}`);
  return f;
}

function value(families: MetricFamily[], name: string): string {
  return String(family(families, name).samples[0]?.value);
}

async function walkColumn(device: string, oid: string): Promise<Map<string, ReferenceValue>> {
  return snmpBulkWalk(agentPort(device), ['-v2c', '-c', community(device)], oid);
}

describe('if_mib', () => {
  it.each(['cisco', 'generated'])(
    'equals snmpbulkwalk for every IF-MIB value and label (%s)',
    async (device) => {
      const scrape = await scrapeSnmpTarget(v2c(device), [IF_MIB]);
      expect(scrape.up).toBe(true);
      const names = await walkColumn(device, '1.3.6.1.2.1.31.1.1.1.1');
      const descrs = await walkColumn(device, '1.3.6.1.2.1.2.2.1.2');
      const aliases = await walkColumn(device, '1.3.6.1.2.1.31.1.1.1.18');
      let compared = 0;
      for (const def of IF_MIB.metrics) {
        const reference = await walkColumn(device, def.oid);
        const samples = scrape.families.find((f) => f.name === def.name)?.samples ?? [];
        expect({ metric: def.name, n: samples.length }).toEqual({ metric: def.name, n: reference.size });
        for (const s of samples) {
          const idx = s.labels?.ifIndex as string;
          expect(String(s.value)).toBe(reference.get(`${def.oid}.${idx}`)?.text);
          expect(s.labels?.ifName).toBe(names.get(`1.3.6.1.2.1.31.1.1.1.1.${idx}`)?.text ?? '');
          expect(s.labels?.ifDescr).toBe(descrs.get(`1.3.6.1.2.1.2.2.1.2.${idx}`)?.text ?? '');
          const alias = aliases.get(`1.3.6.1.2.1.31.1.1.1.18.${idx}`)?.text ?? '';
          expect(s.labels?.ifAlias).toBe(alias);
          compared += 1;
        }
      }
      expect(compared).toBeGreaterThan(device === 'cisco' ? 500 : 30);
    },
    120_000, // one snmpbulkwalk process per column: tens of seconds on a loaded machine
  );

  it('exposes Counter64 exactly, beyond 2^53 up to 2^64-1, and falls back to 32-bit counters without HC', async () => {
    const scrape = await scrapeSnmpTarget(v2c('generated'), [IF_MIB]);
    const text = encodeText(scrape.families);
    expect(text).toContain(
      'ifHCInOctets{ifIndex="1",ifAlias="uplink Jakarta–Bandung",ifDescr="GigabitEthernet0/1",ifName="Gi0/1"} 18446744073709551615',
    );
    expect(text).toMatch(/ifHCOutOctets\{ifIndex="1",[^}]*\} 9007199254740993\n/);
    expect(text).toMatch(/ifHCInOctets\{ifIndex="2",[^}]*\} 9007199254740992\n/);
    // port 3 has no HC counters: no ifHCInOctets series, the 32-bit one is there
    expect(text).not.toMatch(/ifHCInOctets\{ifIndex="3"/);
    expect(text).toMatch(/ifInOctets\{ifIndex="3",[^}]*ifName="Fa0\/3"\} 3000000000\n/);
  });

  it('walks the same with max-repetitions 1 as with 50, and v1 (GETNEXT, no Counter64) keeps the 32-bit counters', async () => {
    const small = await scrapeSnmpTarget(v2c('cisco', undefined, { maxRepetitions: 1 }), [IF_MIB]);
    const large = await scrapeSnmpTarget(v2c('cisco', undefined, { maxRepetitions: 50 }), [IF_MIB]);
    const body = (s: typeof small): string =>
      encodeText(s.families.filter((f) => !f.name.startsWith('snmp_scrape')));
    expect(body(small)).toBe(body(large));
    expect(small.pdus).toBeGreaterThan(large.pdus);
    const v1 = await scrapeSnmpTarget(v2c('generated', sim.port, { version: '1' }), [IF_MIB]);
    expect(v1.up).toBe(true);
    expect(v1.families.find((f) => f.name === 'ifHCInOctets')).toBeUndefined();
    expect(family(v1.families, 'ifInOctets').samples).toHaveLength(3);
  });
});

describe('system and host_resources', () => {
  it('reads sysUpTime as seconds and system facts as snmp_system_info', async () => {
    const scrape = await scrapeSnmpTarget(v2c('cisco'), [SYSTEM_MIB]);
    const ref = await walkColumn('cisco', '1.3.6.1.2.1.1');
    expect(value(scrape.families, 'snmp_system_uptime_seconds')).toBe(
      String(Number(ref.get('1.3.6.1.2.1.1.3.0')?.text) / 100),
    );
    const info = family(scrape.families, 'snmp_system_info').samples[0];
    expect(info?.labels).toEqual({
      sys_name: 'Profiler3750',
      sys_descr: ref.get('1.3.6.1.2.1.1.1.0')?.text,
      sys_object_id: '1.3.6.1.4.1.9.1.516',
      sys_location: 'Bangalore',
      sys_contact: '',
    });
    expect(info?.labels?.sys_descr).toMatch(/^Cisco IOS Software, C3750/);
  });

  it('reads processor load as a ratio and storage in bytes (allocation units) from a recorded Linux host', async () => {
    const scrape = await scrapeSnmpTarget(v2c('linux'), [HOST_RESOURCES_MIB]);
    expect(scrape.up).toBe(true);
    const load = await walkColumn('linux', '1.3.6.1.2.1.25.3.3.1.2');
    const loads = family(scrape.families, 'snmp_hr_processor_load_ratio').samples;
    expect(loads).toHaveLength(load.size);
    for (const s of loads)
      expect(s.value).toBe(
        Number(load.get(`1.3.6.1.2.1.25.3.3.1.2.${s.labels?.hr_device_index}`)?.text) / 100,
      );
    const units = await walkColumn('linux', '1.3.6.1.2.1.25.2.3.1.4');
    const descr = await walkColumn('linux', '1.3.6.1.2.1.25.2.3.1.3');
    for (const [name, column] of [
      ['snmp_hr_storage_size_bytes', '5'],
      ['snmp_hr_storage_used_bytes', '6'],
    ] as const) {
      const ref = await walkColumn('linux', `1.3.6.1.2.1.25.2.3.1.${column}`);
      const samples = family(scrape.families, name).samples;
      expect(samples).toHaveLength(ref.size);
      for (const s of samples) {
        const i = s.labels?.hr_storage_index as string;
        const expected =
          BigInt(ref.get(`1.3.6.1.2.1.25.2.3.1.${column}.${i}`)?.text as string) *
          BigInt(units.get(`1.3.6.1.2.1.25.2.3.1.4.${i}`)?.text as string);
        expect(s.value).toBe(expected);
        expect(s.labels?.hr_storage_descr).toBe(descr.get(`1.3.6.1.2.1.25.2.3.1.3.${i}`)?.text);
      }
    }
  });
});

describe('user-declared OIDs', () => {
  it('reads an OLT table with a two-part index, a lookup label, a scale and a text value, plus a scalar', async () => {
    const modules = parseSnmpModule('olt_optics', {
      type: 'snmp',
      include: ['system'],
      metrics: [
        {
          name: 'olt_onu_rx_power_dbm',
          oid: `${OLT_BASE}.4`,
          help: 'ONU optical receive power in dBm.',
          indexes: [{ label: 'pon_port' }, { label: 'onu_id' }],
          lookups: [{ label: 'onu_name', oid: `${OLT_BASE}.2` }],
          scale: 0.01,
        },
        {
          name: 'olt_onu_rx_power_text_dbm',
          oid: `${OLT_BASE}.5`,
          indexes: [{ label: 'pon_port' }, { label: 'onu_id' }],
        },
        { name: 'olt_pon_ports_down', oid: '1.3.6.1.4.1.99999.1.2.0' },
      ],
    });
    expect(modules.map((m) => m.name)).toEqual(['system', 'olt_optics']);
    expect(modules[1]?.metrics.map((m) => m.oid)).toEqual(OLT_MODULE.metrics.map((m) => m.oid));
    const scrape = await scrapeSnmpTarget(v2c('generated'), modules);
    const text = encodeText(scrape.families);
    expect(text).toContain('olt_onu_rx_power_dbm{pon_port="1",onu_id="1",onu_name="ONU-cust-0001"} -21.35\n');
    expect(text).toContain(
      'olt_onu_rx_power_dbm{pon_port="2",onu_id="17",onu_name="ONU-cust-0117"} -28.01\n',
    );
    expect(text).toContain('olt_onu_rx_power_text_dbm{pon_port="1",onu_id="2"} -19.87\n');
    expect(text).toContain('olt_pon_ports_down 3\n');
    expect(value(scrape.families, 'snmp_system_uptime_seconds')).toBe('42949672.95');
  });

  it('rejects a bad user module with the path and the problem', () => {
    expect(() =>
      parseSnmpModule('olt', { type: 'snmp', metrics: [{ name: 'olt rx', oid: '1.3.6.x' }] }),
    ).toThrow(
      /modules\.olt\.metrics\.0\.name: must be a valid Prometheus metric name[\s\S]*modules\.olt\.metrics\.0\.oid: must be a numeric OID/,
    );
    expect(() => parseSnmpModule('olt', { type: 'snmp', include: ['nope'] })).toThrow(
      /modules\.olt\.include\.0: unknown SNMP module 'nope'/,
    );
  });
});

describe('SNMPv3 and failures', () => {
  const v3 = (port: number, authKey = V3.authKey, extra: Partial<SnmpTarget> = {}): SnmpTarget => ({
    name: 'v3',
    host: '127.0.0.1',
    port,
    version: '3',
    v3: { user: V3.user, authProtocol: 'sha', authKey, privProtocol: 'aes', privKey: V3.privKey },
    maxRepetitions: 25,
    timeoutMs: 3000,
    retries: 1,
    ...extra,
  });

  it('reads with SNMPv3 authPriv (SHA/AES) from snmpd the same as snmpbulkwalk', async () => {
    const scrape = await scrapeSnmpTarget(v3(lab.endpoint('snmpd').port), [SYSTEM_MIB, IF_MIB]);
    expect(scrape.up).toBe(true);
    expect(family(scrape.families, 'snmp_system_info').samples[0]?.labels?.sys_name).toBe('lab-snmpd');
    const ref = await snmpBulkWalk(
      lab.endpoint('snmpd').port,
      ['-v3', '-l', 'authPriv', '-u', V3.user, '-a', 'SHA', '-A', V3.authKey, '-x', 'AES', '-X', V3.privKey],
      '1.3.6.1.2.1.2.2.1.2',
    );
    const descrs = family(scrape.families, 'ifOperStatus').samples.map((s) => s.labels?.ifDescr);
    expect(descrs.sort()).toEqual([...ref.values()].map((v) => v.text).sort());
  });

  it('fails fast and labelled for a wrong v3 key, an agent that never answers, and leaves other targets alone', async () => {
    const t0 = performance.now();
    let deadMs = Infinity;
    const [wrongKey, dead, alive] = await Promise.all([
      scrapeSnmpTarget(v3(lab.endpoint('snmpd').port, 'wrong-key-000'), [IF_MIB]),
      scrapeSnmpTarget(v2c('cisco', silentPort, { timeoutMs: 400, retries: 1 }), [IF_MIB, SYSTEM_MIB]).then(
        (r) => ((deadMs = performance.now() - t0), r),
      ),
      scrapeSnmpTarget(v2c('generated'), [SYSTEM_MIB]),
    ]);
    expect(wrongKey.up).toBe(false);
    expect(wrongKey.failure).toBe('auth');
    expect(encodeText(wrongKey.families)).toContain('snmp_scrape_error{reason="auth"} 1');
    expect(encodeText(wrongKey.families)).not.toContain('wrong-key-000');
    expect(dead.up).toBe(false);
    expect(dead.failure).toBe('timeout');
    const deadText = encodeText(dead.families);
    expect(deadText).toContain('snmp_up 0');
    expect(deadText).toContain('snmp_scrape_collector_success{collector="if_mib"} 0');
    expect(alive.up).toBe(true);
    // ended by its own 400 ms timeouts, not by one default 5 s timeout (a bound a loaded machine holds)
    expect(deadMs).toBeGreaterThanOrEqual(800);
    expect(deadMs).toBeLessThan(5_000);
    expect(value(dead.families, 'snmp_scrape_packets_sent')).toBe('4'); // 2 modules × (1 + 1 retry)
    // ended by the agent's report, not by the 3 s request timeout
    const wrongTime = Number(value(wrongKey.families, 'snmp_scrape_duration_seconds'));
    expect(wrongTime).toBeLessThan(3);
  });
});

describe('timeouts per request, retries, deadline, refusal, abort', () => {
  let relay: UdpRelay;
  let ciscoRelay: UdpRelay;
  beforeEach(async () => {
    [relay, ciscoRelay] = await Promise.all([startUdpRelay(sim.port), startUdpRelay(agentPort('cisco'))]);
  });
  afterEach(async () => {
    await Promise.all([relay.close(), ciscoRelay.close()]);
  });

  it('sends an unanswered request again after its own timeout and completes the walk', async () => {
    relay.drop(2);
    const scrape = await scrapeSnmpTarget(
      v2c('generated', relay.port, { timeoutMs: 300, retries: 3 }),
      [IF_MIB],
      { deadlineMs: 10_000 },
    );
    expect(scrape.up).toBe(true);
    expect(family(scrape.families, 'ifHCInOctets').samples).toHaveLength(2);
    // the two dropped datagrams were sent again; so is any answer slower than 300 ms on a loaded
    // machine (seen in CI), so the extra requests are the ones the relay saw repeated, at least two
    expect(relay.repeats).toBeGreaterThanOrEqual(2);
    expect(scrape.requests).toBe(scrape.pdus + relay.repeats);
    expect(relay.received).toBe(scrape.requests);
  });

  it('fails as timeout at the scrape deadline, though each request could still be retried', async () => {
    const t0 = performance.now();
    const scrape = await scrapeSnmpTarget(
      v2c('cisco', silentPort, { timeoutMs: 5_000, retries: 3 }),
      [IF_MIB],
      { deadlineMs: 300 },
    );
    const took = performance.now() - t0;
    expect(scrape.failure).toBe('timeout');
    expect(scrape.runs[0]?.error?.message).toMatch(/scrape deadline of 300 ms/);
    expect(took).toBeGreaterThanOrEqual(290);
    // a request waits 5 s: only the deadline ends the scrape sooner (a bound a loaded machine holds)
    expect(took).toBeLessThan(5_000);
  });

  it('reports a closed port as refused at once (ICMP port unreachable on a connected socket), v2c and v3', async () => {
    const closedPort = await freePort();
    for (const target of [
      v2c('cisco', closedPort, { timeoutMs: 5_000, retries: 3 }),
      {
        ...v2c('cisco', closedPort, { timeoutMs: 5_000, retries: 3 }),
        version: '3' as const,
        v3: { user: V3.user, authProtocol: 'sha' as const, authKey: V3.authKey },
      },
    ]) {
      const t0 = performance.now();
      const scrape = await scrapeSnmpTarget(target, [IF_MIB, SYSTEM_MIB], { deadlineMs: 10_000 });
      const took = performance.now() - t0;
      expect(scrape.failure).toBe('refused');
      expect(encodeText(scrape.families)).toContain('snmp_scrape_error{reason="refused"} 1');
      // the deadline is 10 s and a request 5 s: only the port's refusal can end it sooner
      expect(took).toBeLessThan(5_000);
    }
  });

  it('stops sending when the scrape is aborted, and fails as aborted', async () => {
    const stop = new AbortController();
    // max-repetitions 1: the Cisco walk needs hundreds of requests, so it is mid-walk when aborted;
    // retries enough that answers slower than 200 ms on a loaded machine do not end the walk first
    const scraping = scrapeSnmpTarget(
      v2c('cisco', ciscoRelay.port, { maxRepetitions: 1, timeoutMs: 200, retries: 50 }),
      [IF_MIB],
      {
        signal: stop.signal,
        deadlineMs: 60_000,
      },
    );
    await waitFor('the walk to be under way', async () => (ciscoRelay.forwarded >= 5 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 5,
    });
    stop.abort();
    const scrape = await scraping;
    const atAbort = ciscoRelay.received;
    expect(scrape.failure).toBe('aborted');
    // a live session sends its next request as soon as an answer comes, and a retry after its 200 ms
    // timeout: three timeouts without a datagram show it stopped
    await new Promise((r) => setTimeout(r, 600));
    // at most the one datagram already on its way when the scrape returned (seen once in CI)
    expect(ciscoRelay.received).toBeLessThanOrEqual(atAbort + 1);
    expect(scrape.requests).toBeLessThan(50);
  });
});

describe('the scrape deadline from Prometheus', () => {
  it('is the scrape timeout less 10 % (at most 500 ms), two minutes without the header', () => {
    expect(scrapeDeadlineMs('10')).toBe(9_500);
    expect(scrapeDeadlineMs('2')).toBe(1_800);
    expect(scrapeDeadlineMs('0.5')).toBe(450);
    expect(scrapeDeadlineMs(undefined)).toBe(120_000);
    expect(DEFAULT_SCRAPE_DEADLINE_MS).toBe(120_000);
    expect(scrapeDeadlineMs('soon')).toBe(DEFAULT_SCRAPE_DEADLINE_MS);
    expect(scrapeDeadlineMs('-1')).toBe(DEFAULT_SCRAPE_DEADLINE_MS);
  });
});

describe('promtool check metrics', () => {
  it('is clean except the camelCase IF-MIB names kept for snmp_exporter compatibility', async () => {
    const scrape = await scrapeSnmpTarget(v2c('generated'), [IF_MIB, SYSTEM_MIB, OLT_MODULE]);
    const dead = await scrapeSnmpTarget(v2c('x', silentPort, { timeoutMs: 200, retries: 0 }), [
      HOST_RESOURCES_MIB,
    ]);
    const host = await scrapeSnmpTarget(v2c('linux'), [HOST_RESOURCES_MIB]);
    const text = encodeText([
      ...scrape.families,
      ...host.families.filter((f) => f.name.startsWith('snmp_hr')),
      ...dead.families.filter((f) => f.name === 'snmp_scrape_error'),
    ]);
    const promtool = findBinary('promtool', 'prometheus');
    const output = await new Promise<string>((resolve) => {
      const child = execFile(promtool, ['check', 'metrics'], (_err, stdout, stderr) =>
        resolve(stdout + stderr),
      );
      child.stdin?.end(text);
    });
    // promtool prints one line per offending series; fold them into distinct (metric, problem) pairs.
    const problems = [...new Set(output.trim().split('\n').filter(Boolean))].sort();
    const counters = new Set(IF_MIB.metrics.filter((m) => m.type === 'counter').map((m) => m.name));
    const present = new Set(scrape.families.filter((f) => f.samples.length > 0).map((f) => f.name));
    const expected = IF_MIB.metrics
      .filter((m) => present.has(m.name))
      .flatMap((m) => [
        `${m.name} label names should be written in 'snake_case' not 'camelCase'`,
        `${m.name} metric names should be written in 'snake_case' not 'camelCase'`,
        ...(counters.has(m.name) ? [`${m.name} counter metrics should have "_total" suffix`] : []),
      ])
      .sort();
    // the pinned exception list: IF-MIB metric names and the ifIndex/ifAlias/ifDescr/ifName labels;
    // everything else (snmp_*, the OLT module, host resources) is clean.
    expect(problems).toEqual(expected);
    expect(present.size).toBeGreaterThan(10);
    expect(CAMEL_CASE_COMPAT_NAMES).toEqual([
      ...IF_MIB.metrics.map((m) => m.name),
      'ifIndex',
      'ifAlias',
      'ifDescr',
      'ifName',
    ]);
  });
});
