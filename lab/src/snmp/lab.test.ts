import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from '@ispmon/local-servers';
import { startSnmpLab, V3_USER, type SnmpLab } from './lab.js';

const run = promisify(execFile);

/** snmpsim is a Python process that may be slow to answer under load: reads that must succeed wait 2 s
 * per request and retry twice; reads that must fail give up after one second. */
const PATIENT = ['-t', '2', '-r', '2'];
const IMPATIENT = ['-t', '1', '-r', '0'];

async function bulkwalk(args: string[], timing = PATIENT): Promise<Map<string, string>> {
  const { stdout } = await run('snmpbulkwalk', ['-On', '-Oq', ...timing, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(line.slice(0, sp), line.slice(sp + 1).replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

describe('SNMP lab', () => {
  let lab: SnmpLab;
  beforeAll(async () => {
    lab = await startSnmpLab();
  }, 180_000);
  afterAll(async () => {
    await lab.stop();
  });

  const target = (device: string): string => `${lab.endpoint(device).host}:${lab.endpoint(device).port}`;
  const v3 = (device: string): string[] => [
    '-v3',
    '-l',
    'authPriv',
    '-u',
    V3_USER.user,
    '-a',
    'SHA',
    '-A',
    V3_USER.authKey,
    '-x',
    'AES',
    '-X',
    V3_USER.privKey,
    ...(lab.endpoint(device).v3Context ? ['-n', lab.endpoint(device).v3Context] : []),
    target(device),
  ];

  it("serves the recorded Cisco Catalyst 3750 walk that Debian's snmpsim ships", async () => {
    const sys = await bulkwalk(['-v2c', '-c', 'cisco-c3750', target('cisco-c3750'), '1.3.6.1.2.1.1']);
    expect(sys.get('.1.3.6.1.2.1.1.5.0')).toBe('Profiler3750');
    expect(sys.get('.1.3.6.1.2.1.1.2.0')).toBe('.1.3.6.1.4.1.9.1.516');
    const ifNames = await bulkwalk([
      '-v2c',
      '-c',
      'cisco-c3750',
      target('cisco-c3750'),
      '1.3.6.1.2.1.31.1.1.1.1',
    ]);
    expect(ifNames.size).toBeGreaterThan(20);
  });

  it('serves the recorded Linux host walk, 64-bit counters included', async () => {
    const hc = await bulkwalk(['-v2c', '-c', 'linux-host', target('linux-host'), '1.3.6.1.2.1.31.1.1.1.6']);
    expect(hc.get('.1.3.6.1.2.1.31.1.1.1.6.2')).toBe('24167091249');
  });

  it('answers SNMPv3 authPriv (SHA/AES) on snmpsim and snmpd, and refuses a wrong key', async () => {
    const sim = await bulkwalk([...v3('lab-switch'), '1.3.6.1.2.1.1.5']);
    expect(sim.get('.1.3.6.1.2.1.1.5.0')).toBe('lab-switch-1');
    const live = await bulkwalk([...v3('snmpd'), '1.3.6.1.2.1.1.5']);
    expect(live.get('.1.3.6.1.2.1.1.5.0')).toBe('lab-snmpd');
    const wrong = v3('snmpd').map((a) => (a === V3_USER.privKey ? 'wrong-priv-key' : a));
    await expect(bulkwalk([...wrong, '1.3.6.1.2.1.1.5'], IMPATIENT)).rejects.toThrow();
  });

  it('moves the generated switch counters between two reads, with one counter past 2^53', async () => {
    const first = await bulkwalk([
      '-v2c',
      '-c',
      'lab-switch',
      target('lab-switch'),
      '1.3.6.1.2.1.31.1.1.1.6',
    ]);
    expect(first.size).toBe(24);
    const before = BigInt(first.get('.1.3.6.1.2.1.31.1.1.1.6.2') ?? '0');
    // snmpsim's numeric variation moves with its clock: read again until it has
    const second = await waitFor(
      'the HC counter of port 2 to grow',
      async () => {
        const again = await bulkwalk([
          '-v2c',
          '-c',
          'lab-switch',
          target('lab-switch'),
          '1.3.6.1.2.1.31.1.1.1.6',
        ]);
        return BigInt(again.get('.1.3.6.1.2.1.31.1.1.1.6.2') ?? '0') > before ? again : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(BigInt(second.get('.1.3.6.1.2.1.31.1.1.1.6.2') ?? '0')).toBeGreaterThan(before);
    expect(second.get('.1.3.6.1.2.1.31.1.1.1.6.1')).toBe('9007199254740993');
    const oper = await bulkwalk(['-v2c', '-c', 'lab-switch', target('lab-switch'), '1.3.6.1.2.1.2.2.1.8']);
    expect(oper.get('.1.3.6.1.2.1.2.2.1.8.3')).toBe('2');
  });

  it('serves an OLT-like optical table for user-declared OIDs', async () => {
    const power = await bulkwalk(['-v2c', '-c', 'lab-olt', target('lab-olt'), '1.3.6.1.4.1.99999.1.1.1.3']);
    expect(power.get('.1.3.6.1.4.1.99999.1.1.1.3.1')).toBe('-185');
  });

  it('stops answering when paused and answers again when resumed', async () => {
    lab.pause('snmpd', true);
    await expect(
      bulkwalk(['-v2c', '-c', 'ispmon-lab', target('snmpd'), '1.3.6.1.2.1.1.5'], IMPATIENT),
    ).rejects.toThrow(/Timeout/);
    lab.pause('snmpd', false);
    const again = await bulkwalk(['-v2c', '-c', 'ispmon-lab', target('snmpd'), '1.3.6.1.2.1.1.5']);
    expect(again.get('.1.3.6.1.2.1.1.5.0')).toBe('lab-snmpd');
  });
});
