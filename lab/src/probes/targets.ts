// Probe targets for the exporter's latency/loss probes: one network namespace per client link, joined to
// the host by a veth pair on 10.213.N.0/30 (addresses that exist only inside this machine's namespaces).
// Inside, a small responder answers ICMP echo (kernel replies off) with programmable latency, jitter and
// loss, and accepts TCP connections for TCP-connect probes. Needs root (CAP_NET_ADMIN, CAP_NET_RAW).
// tc netem would be the usual tool; this kernel has no sch_netem, hence the user-space responder.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const PREFIX = 'ispmon-p';
const RESPONDER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'probes', 'responder.py');

export interface ProbeTarget {
  name: string;
  /** The address to probe (inside the target's namespace). */
  address: string;
  tcpPort: number;
  setLatency(ms: number, jitterMs?: number): void;
  setLoss(ratio: number): void;
  /** Link down (no route, no reply) or back up. */
  setDown(down: boolean): void;
}

export interface ProbeTargets {
  targets: ProbeTarget[];
  target(name: string): ProbeTarget;
  stop(): Promise<void>;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Removes every ispmon probe namespace and link (all runs): for an operator cleaning up by hand. */
export function cleanStaleProbeTargets(): void {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    if (!ns.startsWith(PREFIX)) continue;
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  for (const m of links.matchAll(/^\d+: (ispmon-ph\d+)@/gm)) {
    try {
      ip('link', 'del', m[1] as string);
    } catch {
      // already gone
    }
  }
}

/** Removes one target's namespace and host link, if an earlier (killed) run left them. */
function removeTarget(i: number): void {
  try {
    ip('netns', 'del', `${PREFIX}${i}`);
  } catch {
    // not there
  }
  try {
    ip('link', 'del', `ispmon-ph${i}`);
  } catch {
    // not there
  }
}

/** Whether this process may create namespaces (root with CAP_NET_ADMIN). */
export function canCreateProbeTargets(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    ip('netns', 'add', `${PREFIX}check`);
    ip('netns', 'del', `${PREFIX}check`);
    return true;
  } catch {
    return false;
  }
}

export async function startProbeTargets({
  count = 2,
  firstIndex = 1,
  tcpPort = 7,
}: { count?: number; firstIndex?: number; tcpPort?: number } = {}): Promise<ProbeTargets> {
  // Only this run's indices are touched: other labs (parallel test files) may own other namespaces.
  const indices = Array.from({ length: count }, (_, k) => firstIndex + k);
  for (const i of indices) removeTarget(i);
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-probes-'));
  const children: ChildProcess[] = [];
  const targets: ProbeTarget[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const i = firstIndex + k;
      const ns = `${PREFIX}${i}`;
      const hostIf = `ispmon-ph${i}`;
      const nsIf = `ispmon-pn${i}`;
      const hostAddr = `10.213.${i}.1`;
      const address = `10.213.${i}.2`;
      ip('netns', 'add', ns);
      ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
      ip('link', 'set', nsIf, 'netns', ns);
      ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
      ip('link', 'set', hostIf, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsIf);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.icmp_echo_ignore_all=1']);
      const control = join(dir, `${ns}.json`);
      const write = (s: { latency_ms: number; jitter_ms: number; loss: number }): void => {
        writeFileSync(`${control}.tmp`, JSON.stringify(s));
        execFileSync('mv', [`${control}.tmp`, control]);
      };
      const state = { latency_ms: 1, jitter_ms: 0, loss: 0 };
      write(state);
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, '/usr/bin/python3', RESPONDER, control, String(tcpPort)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', () => resolve());
        child.once('exit', (code) => reject(new Error(`probe responder in ${ns} exited with ${code}`)));
      });
      targets.push({
        name: `link-${i}`,
        address,
        tcpPort,
        setLatency(ms, jitterMs = 0) {
          state.latency_ms = ms;
          state.jitter_ms = jitterMs;
          write(state);
        },
        setLoss(ratio) {
          state.loss = ratio;
          write(state);
        },
        setDown(down) {
          ip('link', 'set', hostIf, down ? 'down' : 'up');
          if (!down) ip('addr', 'replace', `${hostAddr}/30`, 'dev', hostIf);
        },
      });
    }
  } catch (err) {
    for (const c of children) c.kill('SIGKILL');
    for (const i of indices) removeTarget(i);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    targets,
    target(name: string): ProbeTarget {
      const t = targets.find((x) => x.name === name);
      if (!t) throw new Error(`no probe target ${name}`);
      return t;
    },
    async stop(): Promise<void> {
      for (const c of children) c.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
      for (const i of indices) removeTarget(i);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
