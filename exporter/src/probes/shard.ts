// Which client links this exporter replica measures when Prometheus scrapes in shards: the same
// `hashmod` Prometheus applies to the target name (prometheus/shards/generate.mjs), so the replica that
// shard i scrapes measures exactly the links shard i keeps. Pure.
import { createHash } from 'node:crypto';

/** Shard `index` of `count`, 0-based as generate.mjs's `--shard`. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/N` (e.g. `ISPMON_EXPORTER_SHARD=0/2`); the error says what was wrong. */
export function parseShard(text: string, source = 'ISPMON_EXPORTER_SHARD'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m)
    throw new Error(
      `${source}: '${text}' is not a shard like 0/2 (this replica's index, 0-based, / the number of shards)`,
    );
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`${source}: '${text}': the number of shards must be at least 1`);
  if (index >= count)
    throw new Error(
      `${source}: '${text}': the index must be from 0 to ${count - 1} (shards are numbered from 0, as in generate.mjs --shard)`,
    );
  return { index, count };
}

/** Prometheus's `hashmod` relabel action: md5 of the value, its last 8 bytes as a big-endian uint64, mod N. */
export function hashmod(value: string, modulus: number): number {
  const sum = createHash('md5').update(value, 'utf8').digest();
  return Number(sum.readBigUInt64BE(8) % BigInt(modulus));
}

/** Whether this replica measures the target (every target when no shard is set). */
export function measuresTarget(shard: Shard | undefined, targetName: string): boolean {
  return !shard || hashmod(targetName, shard.count) === shard.index;
}
