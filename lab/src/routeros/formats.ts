// Value formats as RouterOS prints them through the API (MikroTik RouterOS manual: "API", "Console:
// time values", and public API captures, e.g. the test fixtures of librouteros and go-routeros).

/** Seconds as RouterOS writes durations: `1w2d3h4m5s`, `59s`, `0s`. */
export function formatDuration(totalSeconds: number): string {
  let s = Math.max(0, Math.floor(totalSeconds));
  const w = Math.floor(s / 604800);
  s -= w * 604800;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [w ? `${w}w` : '', d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''];
  const text = parts.join('');
  return text === '' ? '0s' : text;
}

/** RouterOS booleans through the API are `true` / `false`. */
export function formatBool(value: boolean): string {
  return value ? 'true' : 'false';
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Dates: RouterOS 6 and 7 before 7.10 print `jan/02/2024 10:00:00`; 7.10+ prints `2024-01-02 10:00:00`. */
export function formatDate(date: Date, isoStyle: boolean): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const time = `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}`;
  if (isoStyle)
    return `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())} ${time}`;
  return `${MONTHS[date.getUTCMonth()]}/${p(date.getUTCDate())}/${date.getUTCFullYear()} ${time}`;
}

/** Rates as RouterOS writes them in max-limit / rate-limit: `10M`, `512k`, `1G`, plain bits below 1k. */
export function formatRate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e9 && bitsPerSecond % 1e9 === 0) return `${bitsPerSecond / 1e9}G`;
  if (bitsPerSecond >= 1e6 && bitsPerSecond % 1e6 === 0) return `${bitsPerSecond / 1e6}M`;
  if (bitsPerSecond >= 1e3 && bitsPerSecond % 1e3 === 0) return `${bitsPerSecond / 1e3}k`;
  return String(bitsPerSecond);
}

/** Deterministic PRNG (mulberry32) so a seed reproduces a whole network. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RouterOS versions compare by numeric parts: 6.42 < 6.43 < 6.49.10 < 7.18. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.\s]/).map((x) => Number.parseInt(x, 10) || 0);
  const b = minimum.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** A MikroTik-looking MAC address (48:8F:5A is a MikroTik prefix) drawn from `random`. */
export function macFor(random: () => number): string {
  const bytes = [0x48, 0x8f, 0x5a, ...Array.from({ length: 3 }, () => Math.floor(random() * 256))];
  return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}
