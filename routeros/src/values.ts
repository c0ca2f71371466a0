// Parsers for the value formats RouterOS prints through the API. Each returns undefined for input it
// does not recognise, so a collector skips a sample rather than exporting a wrong number.

const DURATION_UNITS: Record<string, number> = {
  w: 604800,
  d: 86400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
  us: 0.000001,
};

/** `1w2d3h4m5s`, `59s`, `350ms`, `00:01:02`, `1d00:01:02` (both styles appear across versions) → seconds. */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const clock = /^(?:(\d+)d)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text);
  if (clock) {
    const [, d, h, m, s, frac] = clock;
    return (
      Number(d ?? 0) * 86400 +
      Number(h) * 3600 +
      Number(m) * 60 +
      Number(s) +
      (frac ? Number(`0.${frac}`) : 0)
    );
  }
  const re = /(\d+(?:\.\d+)?)(ms|us|w|d|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/** `true`/`yes` → 1, `false`/`no` → 0. */
export function parseBool(text: string | undefined): 0 | 1 | undefined {
  if (text === 'true' || text === 'yes') return 1;
  if (text === 'false' || text === 'no') return 0;
  return undefined;
}

const RATE_UNITS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Rates as in max-limit / rate-limit: `10M` → 10000000 bits/s, `512k`, `1.5M`, `0` (unlimited → 0). */
export function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([kKMGT]?)$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (RATE_UNITS[m[2] as string] as number));
}

/** Slash pairs such as `bytes=123/456` or `max-limit=10M/20M`. */
export function parsePair<T>(
  text: string | undefined,
  parse: (part: string) => T | undefined,
): [T, T] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split('/');
  if (parts.length !== 2) return undefined;
  const a = parse(parts[0] as string);
  const b = parse(parts[1] as string);
  return a === undefined || b === undefined ? undefined : [a, b];
}

/** Decimal counters, exactly, including values past 2^53 (bigint). */
export function parseCounter(text: string | undefined): bigint | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return BigInt(text);
}

/** Decimal numbers (`24.1`, `-3`, `38`). */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || !/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Ethernet `speed` → bits per second: `10Gbps`, `1Gbps`, `100Mbps`, `2.5Gbps` (RouterOS 6 and 7 before
 * 7.12) and the 7.12+ link modes `10G-baseSR-LR`, `1G-baseT-full`, `2.5G-baseX`, `100M-baseT-half`.
 */
export function parseLinkSpeed(text: string | undefined): number | undefined {
  const m =
    text === undefined
      ? null
      : /^(\d+(?:\.\d+)?)([KMG])(?:bps|-base[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (RATE_UNITS[m[2] as string] as number));
}

/** RouterOS version `7.12.1 (stable)` → `7.12.1`. */
export function parseVersion(text: string | undefined): string | undefined {
  return text?.split(' ')[0];
}
