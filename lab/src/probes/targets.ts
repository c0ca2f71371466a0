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

/** Namespaces are `ispmon-p<pid>-<index>`, host links `isp<pid>h<index>` (at most 15 characters):
 * unique per process, so parallel test files and labs never touch each other's. */
const PREFIX = 'ispmon-p';
const RESPONDER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'probes', 'responder.py');
const namespaceName = (pid: number, i: number): string => `${PREFIX}${pid}-${i}`;
const hostLinkName = (pid: number, i: number): string => `isp${pid}h${i}`;
const nsLinkName = (pid: number, i: number): string => `isp${pid}n${i}`;

export interface ProbeTarget {
  name: string;
  /** The network namespace holding the target (removed by stop()). */
  namespace: string;
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes ispmon probe namespaces and host links left by processes that are gone (killed test runs);
 * with `all`, every one, live owners included (for an operator cleaning up by hand).
 */
export function cleanStaleProbeTargets({ all = false }: { all?: boolean } = {}): void {
  const stale = (pid: number): boolean => all || (pid !== process.pid && !alive(pid));
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const m = /^ispmon-p(\d+)-\d+$/.exec(ns);
    if (!m || !stale(Number(m[1]))) continue;
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  for (const m of links.matchAll(/^\d+: (isp(\d+)h\d+)@/gm)) {
    if (!stale(Number(m[2]))) continue;
    try {
      ip('link', 'del', m[1] as string);
    } catch {
      // already gone
    }
  }
}

/** What this process lacks to create probe targets, with how to get it; undefined if nothing. */
export function probeTargetsMissing(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'root (CAP_NET_ADMIN, CAP_NET_RAW) to create network namespaces: run the tests as root, as CI does';
  const check = namespaceName(process.pid, 0);
  try {
    ip('netns', 'add', check);
    ip('netns', 'del', check);
  } catch (err) {
    return `creating a network namespace failed (${String((err as { stderr?: unknown }).stderr ?? err).trim()}): needs iproute2 (apt-get install -y iproute2) and a kernel that allows network namespaces`;
  }
  return undefined;
}

/** Whether this process may create namespaces (root with CAP_NET_ADMIN). */
export function canCreateProbeTargets(): boolean {
  return probeTargetsMissing() === undefined;
}

/** The /24 indices (10.213.N.0) some interface of this machine already uses. */
function usedIndices(): Set<number> {
  const out = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  return new Set([...out.matchAll(/inet 10\.213\.(\d+)\./g)].map((m) => Number(m[1])));
}

export async function startProbeTargets({
  count = 2,
  firstIndex = 1,
  tcpPort = 7,
}: { count?: number; firstIndex?: number; tcpPort?: number } = {}): Promise<ProbeTargets> {
  cleanStaleProbeTargets();
  // firstIndex is a preference: an index another lab (a parallel test file) holds is skipped.
  const used = usedIndices();
  const indices: number[] = [];
  for (let i = firstIndex; indices.length < count; i++) {
    if (i > 254)
      throw new Error(`no free 10.213.N.0/30 subnets from ${firstIndex} for ${count} probe targets`);
    if (!used.has(i)) indices.push(i);
  }
  const pid = process.pid;
  const created: string[] = [];
  const remove = (): void => {
    for (const ns of created.splice(0)) {
      try {
        ip('netns', 'del', ns); // takes the namespace's end of the veth pair, and so the pair, with it
      } catch {
        // already gone
      }
    }
  };
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-probes-'));
  const children: ChildProcess[] = [];
  const targets: ProbeTarget[] = [];
  try {
    for (const i of indices) {
      const ns = namespaceName(pid, i);
      const hostIf = hostLinkName(pid, i);
      const nsIf = nsLinkName(pid, i);
      const hostAddr = `10.213.${i}.1`;
      const address = `10.213.${i}.2`;
      ip('netns', 'add', ns);
      created.push(ns);
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
        namespace: ns,
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
    remove();
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
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
        ),
      );
      remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
