// Which query engine answers PROMETHEUS_URL, and the counter-increase function billing sends it.
// VictoriaMetrics's MetricsQL `increase()` counts from the last sample before the window and does not
// extrapolate, so the same samples give other SLA minutes and usage figures than Prometheus's; its
// `increase_prometheus()` is Prometheus's `increase()`, and billing sends that one to VictoriaMetrics.

export const PROMQL_ENGINES = ['prometheus', 'victoriametrics'] as const;
export type PromqlEngine = (typeof PROMQL_ENGINES)[number];
/** PROMETHEUS_ENGINE: a named engine, or `auto` (ask the server on first use). */
export type EngineSetting = PromqlEngine | 'auto';

/** The PromQL function that computes Prometheus's `increase()` on `engine`. */
export function increaseFunction(engine: PromqlEngine): 'increase' | 'increase_prometheus' {
  return engine === 'victoriametrics' ? 'increase_prometheus' : 'increase';
}

/** PROMETHEUS_ENGINE's value; unset is `auto`. Throws a RangeError naming the variable and the choices. */
export function parseEngineSetting(value: string | undefined, name = 'PROMETHEUS_ENGINE'): EngineSetting {
  if (value === undefined || value === '') return 'auto';
  const v = value.trim().toLowerCase();
  if (v === 'auto' || (PROMQL_ENGINES as readonly string[]).includes(v)) return v as EngineSetting;
  throw new RangeError(`${name} must be prometheus, victoriametrics or auto, got '${value}'`);
}

/**
 * The query `auto` sends: it asks for the very function billing needs. VictoriaMetrics answers it
 * (no series: an empty vector), so an answer means VictoriaMetrics; Prometheus and engines running its parser (Thanos, Mimir) refuse it
 * with `bad_data` naming the unknown function.
 */
export const ENGINE_PROBE_QUERY = 'increase_prometheus(ispmon_engine_probe_nonexistent_total[1m])';

/** The engine that refused the probe with this error, or undefined when the error names none (a proxy's 401). */
export function engineRefusingProbe(
  errorType: string | undefined,
  message: string,
): PromqlEngine | undefined {
  return errorType === 'bad_data' && message.includes('increase_prometheus') ? 'prometheus' : undefined;
}
