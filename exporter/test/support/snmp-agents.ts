// What the device lab's SNMP lab (`startSnmpLab` in @ispmon/lab) does not offer the exporter's tests:
// snmpsimd serving data files a test supplies (the edge-case devices in snmp-devices.ts), and Debian's
// snmpbulkwalk as the reference reader the exporter's values are compared with.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, freePort, ServerProcess, waitFor } from '@ispmon/testkit';
import { compareOids } from '../../src/snmp/values.js';

const run = promisify(execFile);

export interface SnmpAgentHandle {
  port: number;
  stop(): Promise<void>;
}

/** snmprec lines (`oid|type|value`) sorted by OID, as snmpsimd expects. */
export function snmprec(records: Array<[oid: string, type: number | string, value: string]>): string {
  return `${[...records]
    .sort((a, b) => compareOids(a[0], b[0]))
    .map(([o, t, v]) => `${o}|${t}|${v}`)
    .join('\n')}\n`;
}

export interface SnmpSimOptions {
  /** Data files by community name (v2c community = file name without `.snmprec`). */
  devices: Record<string, string>;
}

async function agentAnswers(port: number, community: string): Promise<true | undefined> {
  try {
    await run(snmpBin('snmpget'), [
      '-v2c',
      '-c',
      community,
      '-r0',
      '-t0.5',
      `127.0.0.1:${port}`,
      '1.3.6.1.2.1.1.1.0',
    ]);
    return true;
  } catch (err) {
    // "No Such Object" still proves the agent answers.
    return /No Such/.test(String((err as { stdout?: string }).stdout)) ? true : undefined;
  }
}

function snmpBin(name: string): string {
  return findBinary(name, 'snmp');
}

/** Starts snmpsimd on a free 127.0.0.1 UDP port serving the given devices. */
export async function startSnmpSim(options: SnmpSimOptions): Promise<SnmpAgentHandle> {
  const binary = findBinary('snmpsimd', 'snmpsim');
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-snmpsim-'));
  const data = join(dir, 'data');
  const cache = join(dir, 'cache');
  chmodSync(dir, 0o755);
  mkdir(data);
  mkdir(cache);
  for (const [community, text] of Object.entries(options.devices)) {
    writeFileSync(join(data, `${community}.snmprec`), text);
    chmodSync(join(data, `${community}.snmprec`), 0o644);
  }
  const port = await freePort();
  const args = [
    `--data-dir=${data}`,
    `--cache-dir=${cache}`,
    `--agent-udpv4-endpoint=127.0.0.1:${port}`,
    // snmpsimd refuses to run as root; it drops to this user (hence the world-writable cache dir).
    '--process-user=nobody',
    '--process-group=nogroup',
  ];
  const proc = ServerProcess.start('snmpsimd', binary, args);
  const first = Object.keys(options.devices)[0] ?? 'public';
  try {
    await waitFor(
      'snmpsimd to answer',
      async () => {
        proc.assertRunning();
        return agentAnswers(port, first);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } catch (err) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function mkdir(path: string): void {
  // snmpsimd runs as nobody and must read the data and write its index.
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
}

export interface ReferenceValue {
  type: string;
  /** The value as snmpbulkwalk prints it: decimal for numbers, the text for strings. */
  text: string;
}

/**
 * Walks with Debian's snmpbulkwalk (numeric OIDs, numeric enums, raw TimeTicks) — the reference
 * the exporter's values are compared with.
 */
export async function snmpBulkWalk(
  port: number,
  auth: string[],
  oid: string,
): Promise<Map<string, ReferenceValue>> {
  // -Ox prints every OCTET STRING as hex, so the reference reads the agent's bytes, not net-snmp's
  // display guess; they are decoded by the same rule the exporter states (UTF-8, else Latin-1).
  const { stdout } = await run(
    snmpBin('snmpbulkwalk'),
    [...auth, '-On', '-Oe', '-Ot', '-OU', '-Ox', '-m', '', '-Cr25', `127.0.0.1:${port}`, oid],
    { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, MIBS: '' } },
  );
  const out = new Map<string, ReferenceValue>();
  let last: ReferenceValue | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^\.?([\d.]+) = (?:([A-Za-z0-9-]+): ?)?(.*)$/.exec(line);
    if (!m) {
      // hex of a long string continues on the next line
      if (last && last.type === 'Hex-STRING') last.text += ` ${line.trim()}`;
      continue;
    }
    const [, o, type = '', raw = ''] = m;
    // An empty column: snmpbulkwalk reports the OID it asked for, with no value.
    if (type === '' && /^No (Such (Object|Instance)|more variables)/.test(raw)) {
      last = undefined;
      continue;
    }
    last = { type, text: raw };
    out.set(o as string, last);
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  for (const v of out.values()) {
    if (v.type === '' && v.text === '""') {
      v.type = 'STRING';
      v.text = '';
    } else if (v.type === 'Hex-STRING') {
      let bytes = Buffer.from(v.text.replace(/\s+/g, ''), 'hex');
      let end = bytes.length;
      while (end > 0 && bytes[end - 1] === 0) end -= 1;
      bytes = bytes.subarray(0, end);
      try {
        v.text = utf8.decode(bytes);
      } catch {
        v.text = latin1.decode(bytes);
      }
      v.type = 'STRING';
    } else if (v.type === 'STRING' && v.text.startsWith('"') && v.text.endsWith('"')) {
      v.text = v.text.slice(1, -1).replaceAll('\\"', '"');
    }
  }
  return out;
}
