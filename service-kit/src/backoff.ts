// Exponential backoff with jitter, the one formula for retries (notifications, router sync, probes).

export interface BackoffPolicy {
  /** Delay after the first failure. */
  baseMs: number;
  /** Upper bound of the delay before jitter. */
  maxMs: number;
  /** Fraction of the delay randomised: 0.5 gives delays in [0.75, 1.25] × the nominal one. */
  jitter?: number;
}

/** Delay before retry number `failures` (1 = after the first failure). `random` is injectable for tests. */
export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(failures - 1, 52));
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jitter = policy.jitter ?? 0.5;
  return Math.round(nominal * (1 - jitter / 2 + jitter * random()));
}
