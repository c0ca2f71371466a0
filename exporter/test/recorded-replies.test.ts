// RouterOS values checked against replies in the shapes real routers send (test/fixtures/routeros/), not
// against the project's simulator: RouterOS 6 (flat health, bare `!done` for an empty print, `1Gbps`) and
// 7.18 (health rows, `!empty`, link modes such as `10G-baseSR-LR`), counters past 2^53, comments in
// windows-1252 and windows-1251. A tiny server replays them over the real wire protocol; the exporter
// scrapes it through /probe as it would a router, and every sample is compared with a value worked out
// by hand from the fixture.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Exporter } from '../src/app.js';
import { parseExposition, sampleValue, type ParsedSample } from './support/exposition-parser.js';
import { loadRecording, startReplayRouter, type ReplayRouter } from './support/replay-router.js';

// jest runs from the repository root (as the other tests assume).
const FIXTURES = join(process.cwd(), 'exporter', 'test', 'fixtures', 'routeros');

/** `name{a="1",b="2"} value` with label names sorted, for comparing whole sample sets. */
const line = (name: string, labels: Record<string, string>, value: string): string => {
  const keys = Object.keys(labels).sort();
  const body = keys.map((k) => `${k}="${labels[k]}"`).join(',');
  return `${name}${body ? `{${body}}` : ''} ${value}`;
};

/** Every sample except timings, which no fixture can know. */
const exported = (samples: ParsedSample[]): string[] =>
  samples
    .filter((s) => !s.name.endsWith('_duration_seconds'))
    .map((s) => line(s.name, s.labels, s.value))
    .sort();

interface Iface {
  name: string;
  type: string;
  comment: string;
  rx: string;
  tx: string;
  rxPackets: string;
  txPackets: string;
  rxErrors: string;
  txErrors: string;
  rxDrops: string;
  txDrops: string;
  linkDowns: string;
  running: string;
  disabled: string;
}

const ifaceLines = (i: Iface): string[] => {
  const l = { interface: i.name };
  return [
    line('mikrotik_interface_receive_bytes_total', l, i.rx),
    line('mikrotik_interface_transmit_bytes_total', l, i.tx),
    line('mikrotik_interface_receive_packets_total', l, i.rxPackets),
    line('mikrotik_interface_transmit_packets_total', l, i.txPackets),
    line('mikrotik_interface_receive_errors_total', l, i.rxErrors),
    line('mikrotik_interface_transmit_errors_total', l, i.txErrors),
    line('mikrotik_interface_receive_drops_total', l, i.rxDrops),
    line('mikrotik_interface_transmit_drops_total', l, i.txDrops),
    line('mikrotik_interface_link_downs_total', l, i.linkDowns),
    line('mikrotik_interface_running', l, i.running),
    line('mikrotik_interface_disabled', l, i.disabled),
    line('mikrotik_interface_info', { ...l, type: i.type, comment: i.comment }, '1'),
  ];
};

const zeros = {
  rxPackets: '0',
  txPackets: '0',
  rxErrors: '0',
  txErrors: '0',
  rxDrops: '0',
  txDrops: '0',
  linkDowns: '0',
};

const COMMANDS: Array<[string, string]> = [
  ['resource', '/system/resource'],
  ['identity', '/system/identity'],
  ['identity', '/system/resource'],
  ['identity', '/system/routerboard'],
  ['health', '/system/health'],
  ['interfaces', '/interface'],
  ['interfaces', '/interface/ethernet'],
  ['ppp_active', '/ppp/active'],
  ['ppp_active', '/ppp/secret'],
  ['ppp_secrets', '/ppp/secret'],
  ['queues', '/queue/simple'],
  ['dhcp', '/ip/dhcp-server/lease'],
  ['pools', '/ip/pool'],
  ['pools', '/ip/pool/used'],
  ['netwatch', '/tool/netwatch'],
];

/** What every healthy scrape adds: up, and every collector and command answered. */
const scrapeLines = (): string[] => [
  line('mikrotik_up', {}, '1'),
  ...[...new Set(COMMANDS.map(([c]) => c))].map((c) =>
    line('mikrotik_scrape_collector_success', { collector: c }, '1'),
  ),
  ...COMMANDS.map(([collector, command]) =>
    line('mikrotik_scrape_command_success', { collector, command }, '1'),
  ),
];

const health = (
  kind: 'temperature_celsius' | 'voltage_volts' | 'fan_speed_rpm' | 'current_amperes' | 'power_watts',
  sensor: string,
  value: string,
): string => line(`mikrotik_health_${kind}`, { sensor }, value);

const state = (sensor: string, reported: string): string[] => [
  line('mikrotik_health_state', { sensor, state: 'ok' }, reported === 'ok' ? '1' : '0'),
  line('mikrotik_health_state', { sensor, state: 'fail' }, reported === 'fail' ? '1' : '0'),
];

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

describe('RouterOS values against recorded reply shapes', () => {
  let v6: ReplayRouter;
  let v7: ReplayRouter;
  let exporter: Exporter;
  let base: string;
  let dir: string;

  const probe = async (target: string): Promise<{ text: string; samples: ParsedSample[] }> => {
    const res = await fetch(`${base}/probe?target=${target}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parseExposition(text) };
  };

  beforeAll(async () => {
    v6 = await startReplayRouter(loadRecording(join(FIXTURES, 'ccr1036-v6.49.replies')));
    v7 = await startReplayRouter(loadRecording(join(FIXTURES, 'ccr2004-v7.18.replies')));
    dir = mkdtempSync(join(tmpdir(), 'ispmon-recorded-'));
    const router = (name: string, port: number, extra = ''): string =>
      `    - { name: ${name}, host: 127.0.0.1, port: ${port}, username: monitor, password: recorded${extra} }\n`;
    writeFileSync(
      join(dir, 'exporter.yml'),
      'listen: 127.0.0.1:0\ntargets:\n  routers:\n' +
        router('core-jkt-1', v6.port) +
        router('bng-bdg-2', v7.port) +
        router('bng-bdg-2-cyrillic', v7.port, ', encoding: windows-1251'),
    );
    exporter = new Exporter({ configFile: join(dir, 'exporter.yml'), logger: pino({ level: 'silent' }) });
    exporter.load();
    base = `http://${await exporter.listen()}`;
  });

  afterAll(async () => {
    await exporter.close();
    await Promise.all([v6.close(), v7.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a RouterOS 6.49 router exactly: flat health with a failed PSU, 1Gbps speeds, bare !done, windows-1252', async () => {
    const { text, samples } = await probe('core-jkt-1');
    expect(exported(samples)).toEqual(
      [
        ...scrapeLines(),
        line('mikrotik_system_uptime_seconds', {}, '2002435'), // 3w2d4h13m55s
        line('mikrotik_system_cpu_load_ratio', {}, '0.07'),
        line('mikrotik_system_cpus', {}, '36'),
        line('mikrotik_system_memory_free_bytes', {}, '3803136000'),
        line('mikrotik_system_memory_total_bytes', {}, '4294967296'),
        line('mikrotik_system_storage_free_bytes', {}, '949071872'),
        line('mikrotik_system_storage_total_bytes', {}, '1073741824'),
        line('mikrotik_system_storage_bad_blocks_ratio', {}, '0'),
        line(
          'mikrotik_system_info',
          {
            identity: 'core-jkt-1',
            version: '6.49.10',
            board: 'CCR1036-8G-2S+',
            architecture: 'tile',
            model: 'CCR1036-8G-2S+',
            serial: '6F3E06A1B2C4',
            firmware: '6.49.10',
          },
          '1',
        ),
        health('voltage_volts', 'voltage', '24.3'),
        health('current_amperes', 'current', '2.1'),
        health('temperature_celsius', 'temperature', '38'),
        health('temperature_celsius', 'cpu-temperature', '52'),
        health('power_watts', 'power-consumption', '51'),
        health('fan_speed_rpm', 'fan1-speed', '5970'),
        health('fan_speed_rpm', 'fan2-speed', '6060'),
        ...state('psu1-state', 'ok'),
        ...state('psu2-state', 'fail'),
        ...ifaceLines({
          name: 'ether1',
          type: 'ether',
          comment: 'Uplink IIX – Café Ketapang', // windows-1252 0x96 and 0xE9
          rx: '9007199254740993', // 2^53 + 1, exact
          tx: '48113952114',
          rxPackets: '61882318211',
          txPackets: '40121930118',
          rxErrors: '2',
          txErrors: '0',
          rxDrops: '0',
          txDrops: '0',
          linkDowns: '3',
          running: '1',
          disabled: '0',
        }),
        ...ifaceLines({
          name: 'ether2',
          type: 'ether',
          comment: 'Kantor Pusat — Lantai 2', // UTF-8
          rx: '0',
          tx: '0',
          ...zeros,
          running: '0',
          disabled: '0',
        }),
        ...ifaceLines({
          name: 'sfp-sfpplus1',
          type: 'ether',
          comment: '',
          rx: '771604285446',
          tx: '5217403321987',
          rxPackets: '1092283419',
          txPackets: '4110923371',
          rxErrors: '0',
          txErrors: '0',
          rxDrops: '17',
          txDrops: '0',
          linkDowns: '1',
          running: '1',
          disabled: '0',
        }),
        ...ifaceLines({
          name: 'bridge-lan',
          type: 'bridge',
          comment: '',
          rx: '123456',
          tx: '654321',
          ...zeros,
          rxPackets: '1234',
          txPackets: '4321',
          running: '1',
          disabled: '0',
        }),
        ...ifaceLines({
          name: '<pppoe-budi>',
          type: 'pppoe-in',
          comment: '',
          rx: '5120',
          tx: '20480',
          ...zeros,
          rxPackets: '40',
          txPackets: '160',
          running: '1',
          disabled: '0',
        }),
        line('mikrotik_interface_speed_bytes', { interface: 'ether1' }, '125000000'), // 1Gbps
        line('mikrotik_interface_speed_bytes', { interface: 'ether2' }, '12500000'), // 100Mbps
        line('mikrotik_interface_speed_bytes', { interface: 'sfp-sfpplus1' }, '1250000000'), // 10Gbps
        // budi (home-10M), siti (secret service=any, home-20M), a RADIUS user without a secret; joko's
        // disabled biz-50M secret still names a profile, so it reads 0.
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: 'home-10M' }, '1'),
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: 'home-20M' }, '1'),
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: '' }, '1'),
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: 'biz-50M' }, '0'),
        line('mikrotik_ppp_secrets', { profile: 'home-10M', state: 'enabled' }, '1'),
        line('mikrotik_ppp_secrets', { profile: 'home-20M', state: 'enabled' }, '1'),
        line('mikrotik_ppp_secrets', { profile: 'biz-50M', state: 'disabled' }, '1'),
        // bytes=<upload>/<download>; the dynamic <pppoe-budi> queue is left out.
        line(
          'mikrotik_queue_simple_bytes_total',
          { queue: 'uplink-shaper', direction: 'upload' },
          '48113952114',
        ),
        line(
          'mikrotik_queue_simple_bytes_total',
          { queue: 'uplink-shaper', direction: 'download' },
          '9007199254740993',
        ),
        line(
          'mikrotik_queue_simple_packets_total',
          { queue: 'uplink-shaper', direction: 'upload' },
          '40121930118',
        ),
        line(
          'mikrotik_queue_simple_packets_total',
          { queue: 'uplink-shaper', direction: 'download' },
          '61882318211',
        ),
        line(
          'mikrotik_queue_simple_max_limit_bytes_per_second',
          { queue: 'uplink-shaper', direction: 'upload' },
          '25000000', // 200M
        ),
        line(
          'mikrotik_queue_simple_max_limit_bytes_per_second',
          { queue: 'uplink-shaper', direction: 'download' },
          '125000000', // 1G
        ),
        line('mikrotik_queue_simple_disabled', { queue: 'uplink-shaper' }, '0'),
        line('mikrotik_ip_pool_size_addresses', { pool: 'pool-pppoe' }, '1021'), // 10.10.0.2-10.10.3.254
        line('mikrotik_ip_pool_size_addresses', { pool: 'pool-lan' }, '245'), // .10-.254
        line('mikrotik_ip_pool_used_addresses', { pool: 'pool-pppoe' }, '2'),
        line('mikrotik_ip_pool_used_addresses', { pool: 'pool-lan' }, '0'),
        line('mikrotik_netwatch_up', { host: '8.8.8.8', comment: 'Google DNS' }, '1'),
        line('mikrotik_netwatch_up', { host: '10.255.0.2', comment: 'BTS Menara Selatan' }, '0'),
      ].sort(),
    );
    expect(text).not.toMatch(/rahasia/);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it('reads a RouterOS 7.18 router exactly: health rows, !empty, 7.12+ link modes, counters near 2^64', async () => {
    const { text, samples } = await probe('bng-bdg-2');
    expect(exported(samples)).toEqual(
      [
        ...scrapeLines(),
        line('mikrotik_system_uptime_seconds', {}, '788645'), // 1w2d3h4m5s
        line('mikrotik_system_cpu_load_ratio', {}, '0.23'),
        line('mikrotik_system_cpus', {}, '4'),
        line('mikrotik_system_memory_free_bytes', {}, '3510153216'),
        line('mikrotik_system_memory_total_bytes', {}, '4294967296'),
        line('mikrotik_system_storage_free_bytes', {}, '89141248'),
        line('mikrotik_system_storage_total_bytes', {}, '134217728'),
        line('mikrotik_system_storage_bad_blocks_ratio', {}, '0'),
        line(
          'mikrotik_system_info',
          {
            identity: 'bng-bdg-2',
            version: '7.18.2',
            board: 'CCR2004-1G-12S+2XS',
            architecture: 'arm64',
            model: 'CCR2004-1G-12S+2XS',
            serial: 'HCK08A1B2C3',
            firmware: '7.18.2',
          },
          '1',
        ),
        health('voltage_volts', 'voltage', '23.9'),
        health('temperature_celsius', 'temperature', '44'),
        health('temperature_celsius', 'cpu-temperature', '61'),
        health('temperature_celsius', 'sfp-temperature', '39'),
        health('fan_speed_rpm', 'fan1-speed', '4380'),
        health('fan_speed_rpm', 'fan2-speed', '0'),
        health('power_watts', 'power-consumption', '38.5'),
        ...state('fan1-state', 'ok'),
        ...state('fan2-state', 'fail'),
        ...state('psu1-state', 'ok'),
        ...state('psu2-state', 'ok'),
        ...ifaceLines({
          name: 'ether1',
          type: 'ether',
          comment: 'mgmt',
          rx: '1182210',
          tx: '9921044',
          ...zeros,
          rxPackets: '10221',
          txPackets: '12001',
          linkDowns: '1',
          running: '1',
          disabled: '0',
        }),
        ...ifaceLines({
          name: 'sfp-sfpplus1',
          type: 'ether',
          comment: 'Uplink BDG-1 — 10G',
          rx: '12345678901234567890',
          tx: '9876543210987654321',
          rxPackets: '81234567890',
          txPackets: '71234567890',
          rxErrors: '7',
          txErrors: '1',
          rxDrops: '5',
          txDrops: '0',
          linkDowns: '4',
          running: '1',
          disabled: '0',
        }),
        ...ifaceLines({
          name: 'sfp-sfpplus2',
          type: 'ether',
          // windows-1251 bytes read with this target's default windows-1252: what a wrong `encoding` gives.
          comment: 'Êëèåíò Ðîìàøêà',
          rx: '0',
          tx: '0',
          ...zeros,
          running: '0',
          disabled: '1',
        }),
        ...ifaceLines({
          name: 'sfp-sfpplus3',
          type: 'ether',
          comment: 'Pelanggan “Korporat”',
          rx: '0',
          tx: '0',
          ...zeros,
          running: '0',
          disabled: '0',
        }),
        ...ifaceLines({
          name: 'vlan100-pppoe',
          type: 'vlan',
          comment: '',
          rx: '88123',
          tx: '44123',
          ...zeros,
          rxPackets: '900',
          txPackets: '450',
          running: '1',
          disabled: '0',
        }),
        line('mikrotik_interface_speed_bytes', { interface: 'ether1' }, '125000000'), // 1G-baseT-full
        line('mikrotik_interface_speed_bytes', { interface: 'sfp-sfpplus1' }, '1250000000'), // 10G-baseSR-LR
        line('mikrotik_interface_speed_bytes', { interface: 'sfp-sfpplus2' }, '1250000000'), // 10G-baseCR
        line('mikrotik_interface_speed_bytes', { interface: 'sfp-sfpplus3' }, '312500000'), // 2.5G-baseX
        // Nobody connected (`!empty`): every profile the secrets name reads 0; pt-maju's service=any
        // secret takes the service the others name.
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: 'home-10M' }, '0'),
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: 'home-20M' }, '0'),
        line('mikrotik_ppp_active_sessions', { service: 'pppoe', profile: 'biz-50M' }, '0'),
        line('mikrotik_ppp_secrets', { profile: 'home-10M', state: 'enabled' }, '1'),
        line('mikrotik_ppp_secrets', { profile: 'home-20M', state: 'enabled' }, '1'),
        line('mikrotik_ppp_secrets', { profile: 'biz-50M', state: 'enabled' }, '1'),
        line('mikrotik_dhcp_leases', { server: 'dhcp-mgmt', status: 'bound' }, '2'),
        line('mikrotik_dhcp_leases', { server: 'dhcp-mgmt', status: 'waiting' }, '1'),
        line('mikrotik_ip_pool_size_addresses', { pool: 'pool-cgnat' }, '1024'), // 100.64.0.0/22
        line('mikrotik_ip_pool_used_addresses', { pool: 'pool-cgnat' }, '0'), // `!empty`, not a failure
        line('mikrotik_netwatch_up', { host: '1.1.1.1', comment: '' }, '1'),
      ].sort(),
    );
    expect(text).not.toMatch(/rahasia/);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it('reads the same bytes as Cyrillic when the router is configured with windows-1251', async () => {
    const { samples } = await probe('bng-bdg-2-cyrillic');
    const comment = (iface: string): string | undefined =>
      samples.find((s) => s.name === 'mikrotik_interface_info' && s.labels.interface === iface)?.labels
        .comment;
    expect(comment('sfp-sfpplus2')).toBe('Клиент Ромашка');
    expect(comment('sfp-sfpplus3')).toBe('Pelanggan “Korporat”'); // 0x93/0x94 are the same quotes in 1251
    expect(comment('sfp-sfpplus1')).toBe('Uplink BDG-1 — 10G'); // valid UTF-8 stays UTF-8
    expect(sampleValue(samples, 'mikrotik_up')).toBe('1');
  });
});
