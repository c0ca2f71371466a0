// Set-up shared by the sharding tests (tests/scale/shards.test.ts, pairs.test.ts): the shard
// configuration generator as a child process, VictoriaMetrics where installed, probe targets where
// network namespaces can be made.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { canCreateProbeTargets, startProbeTargets, type ProbeTargets } from '@ispmon/lab';
import {
  MissingBinaryError,
  startVictoriaMetrics,
  type StartVictoriaMetricsOptions,
  type VictoriaMetricsServer,
} from '@ispmon/testkit';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

/** Runs prometheus/shards/generate.mjs with `args`: its exit code and output (a failure is a result, not a throw). */
export async function generateShardConfig(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['prometheus/shards/generate.mjs', ...args], {
      cwd: repoRoot,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/**
 * VictoriaMetrics, or (locally, when its binary is not installed) what is missing, printed as the
 * reason `test` skips. In CI (`CI=true`) a missing binary fails.
 */
export async function startVictoriaMetricsOrSkip(
  test: string,
  options?: StartVictoriaMetricsOptions,
): Promise<{ vm: VictoriaMetricsServer; missing?: undefined } | { vm?: undefined; missing: string }> {
  try {
    return { vm: await startVictoriaMetrics(options) };
  } catch (err) {
    if (!(err instanceof MissingBinaryError) || process.env.CI === 'true') throw err;
    console.warn(`skipping ${test}: ${err.message}`);
    return { missing: err.message };
  }
}

/**
 * `count` probe targets in network namespaces, or undefined when this process cannot make them (not
 * root; the tests then probe 127.0.0.1). In CI, which runs as root, not being able to is a failure.
 */
export async function probeTargetsIfPrivileged(
  count: number,
  firstIndex: number,
): Promise<ProbeTargets | undefined> {
  if (canCreateProbeTargets()) return startProbeTargets({ count, firstIndex });
  if (process.env.CI === 'true')
    throw new Error('network namespaces for probe targets need root (CI runs as root)');
  return undefined;
}
