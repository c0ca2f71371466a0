// SNMP through the exporter's HTTP /probe, against the device lab's agents (snmpsim recordings and
// generated devices, snmpd with SNMPv3), compared with Debian's snmpget.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startSnmpLab, V3_USER, type SnmpLab } from '@ispmon/lab';
import { Exporter } from './app.js';
import { parseExposition, sampleValue } from './testing/exposition-parser.js';

const run = promisify(execFile);

describe('SNMP targets through /probe', () => {
  let lab: SnmpLab;
  let exporter: Exporter;
  let base = '';
  let dir = '';

  beforeAll(async () => {
    lab = await startSnmpLab();
    dir = mkdtempSync(join(tmpdir(), 'ispmon-snmp-probe-'));
    process.env.ISPMON_TEST_V3_AUTH = V3_USER.authKey;
    const sw = lab.endpoint('lab-switch');
    const snmpd = lab.endpoint('snmpd');
    const olt = lab.endpoint('lab-olt');
    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0
modules:
  olt_optics:
    type: snmp
    metrics:
      - name: olt_pon_rx_power_dbm
        oid: 1.3.6.1.4.1.99999.1.1.1.3
        type: gauge
        help: Optical receive power per PON port.
        scale: 0.1
        indexes: [{ label: pon_index, type: integer }]
        lookups: [{ label: pon, oid: 1.3.6.1.4.1.99999.1.1.1.2 }]
targets:
  snmp:
    - { name: lab-switch, host: ${sw.host}, port: ${sw.port}, version: 2c, community: lab-switch, module: if_mib }
    - { name: lab-olt, host: ${olt.host}, port: ${olt.port}, version: 2c, community: lab-olt, module: olt_optics }
    - { name: snmpd-v3, host: ${snmpd.host}, port: ${snmpd.port}, version: '3', user: ${V3_USER.user}, auth_protocol: sha, auth_key: { env: ISPMON_TEST_V3_AUTH }, priv_protocol: aes, priv_key: ${V3_USER.privKey}, module: system }
    - { name: snmpd-wrong-key, host: ${snmpd.host}, port: ${snmpd.port}, version: '3', user: ${V3_USER.user}, auth_protocol: sha, auth_key: not-the-key-123, priv_protocol: aes, priv_key: ${V3_USER.privKey}, module: system, timeout: 1s }
`,
    );
    exporter = new Exporter({ configFile: join(dir, 'exporter.yml'), logger: pino({ level: 'silent' }) });
    exporter.load();
    base = `http://${await exporter.listen()}`;
  }, 90_000);
  afterAll(async () => {
    await exporter.close();
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const probe = async (target: string, module?: string): Promise<ReturnType<typeof parseExposition>> =>
    parseExposition(
      await (await fetch(`${base}/probe?target=${target}${module ? `&module=${module}` : ''}`)).text(),
    );

  it('exports IF-MIB with snmp_exporter names, exact 64-bit values and interface labels', async () => {
    const samples = await probe('lab-switch');
    expect(sampleValue(samples, 'snmp_up')).toBe('1');
    expect(sampleValue(samples, 'ifHCInOctets', { ifIndex: '1' })).toBe('9007199254740993');
    expect(samples.find((s) => s.name === 'ifHCInOctets' && s.labels.ifIndex === '1')?.labels).toMatchObject({
      ifName: 'Te1/0/1',
      ifAlias: 'uplink to core-1',
      ifDescr: 'TenGigabitEthernet1/0/1',
    });
    const { stdout } = await run('snmpget', [
      '-v2c',
      '-c',
      'lab-switch',
      '-Oqv',
      `${lab.endpoint('lab-switch').host}:${lab.endpoint('lab-switch').port}`,
      '1.3.6.1.2.1.2.2.1.8.3',
    ]);
    expect(sampleValue(samples, 'ifOperStatus', { ifIndex: '3' })).toBe(
      stdout.trim() === 'down' ? '2' : stdout.trim(),
    );
  });

  it('reads a user-declared OLT table with a lookup label and scale, declared only in YAML', async () => {
    const samples = await probe('lab-olt');
    expect(Number(sampleValue(samples, 'olt_pon_rx_power_dbm', { pon: 'pon-0/1' }))).toBeCloseTo(-18.5, 6);
  });

  it('reads over SNMPv3 authPriv with a key from the environment, and fails fast and labelled with a wrong key', async () => {
    const ok = await probe('snmpd-v3');
    expect(sampleValue(ok, 'snmp_up')).toBe('1');
    expect(ok.find((s) => s.name === 'snmp_system_info')?.labels.sys_name).toBe('lab-snmpd');
    const bad = await probe('snmpd-wrong-key');
    expect(sampleValue(bad, 'snmp_up')).toBe('0');
    expect(bad.find((s) => s.name === 'snmp_scrape_error')?.labels.reason).toBe('auth');
  });

  it('rejects an unknown module for an SNMP target', async () => {
    const res = await fetch(`${base}/probe?target=lab-switch&module=nope`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("unknown SNMP module 'nope'");
  });
});
