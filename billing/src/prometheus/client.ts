// Billing's one client of the Prometheus HTTP API (instant and range queries), used by the SLA source
// and by usage. Answers are zod-parsed; every error names the query, its time and the server, and says
// whether Prometheus refused it, answered without JSON, timed out or could not be reached.
import { z } from 'zod';
import {
  ENGINE_PROBE_QUERY,
  engineRefusingProbe,
  increaseFunction,
  type EngineSetting,
  type PromqlEngine,
} from './engine.js';

const sample = z.tuple([z.number(), z.string()]);
const answer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('matrix'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sample) })),
      }),
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })),
      }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);
type Data = Extract<z.infer<typeof answer>, { status: 'success' }>['data'];

/** Why a query failed: `unavailable` (timeout, unreachable) is worth a retry, `refused` is not. */
export class PrometheusQueryError extends Error {
  constructor(
    message: string,
    readonly kind: 'unavailable' | 'refused',
    /** The API's `errorType` (e.g. `bad_data`) when the server answered an error body. */
    readonly errorType?: string,
  ) {
    super(message);
    this.name = 'PrometheusQueryError';
  }
}

export interface Series {
  metric: Record<string, string>;
  values: Array<[number, number]>;
}

export interface PrometheusClientOptions {
  /** Base URL, e.g. http://prometheus:9090 or a PromQL-speaking global layer (a path prefix is kept). */
  url: string;
  fetch?: typeof fetch;
  /** Per request, including reading the answer; default 30 s. */
  timeoutMs?: number;
  /** The engine behind `url` (PROMETHEUS_ENGINE); `auto` asks it on first use. Default `prometheus`. */
  engine?: EngineSetting;
}

export class PrometheusClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly engineSetting: EngineSetting;
  private detected: Promise<PromqlEngine> | undefined;

  constructor(o: PrometheusClientOptions) {
    this.baseUrl = o.url.replace(/\/+$/, '');
    this.fetchImpl = o.fetch ?? fetch;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.engineSetting = o.engine ?? 'prometheus';
  }

  /**
   * The engine answering `url`: the configured one, or under `auto` the answer to ENGINE_PROBE_QUERY,
   * kept once known. A failed probe is not kept (the next call asks again) and throws; an answer that
   * names no engine is `refused`, saying to set PROMETHEUS_ENGINE.
   */
  engine(): Promise<PromqlEngine> {
    if (this.engineSetting !== 'auto') return Promise.resolve(this.engineSetting);
    this.detected ??= this.probe().catch((err: unknown) => {
      this.detected = undefined;
      throw err;
    });
    return this.detected;
  }

  /** The function to send for Prometheus's `increase()`: `increase_prometheus` on VictoriaMetrics. */
  async increaseFunction(): Promise<'increase' | 'increase_prometheus'> {
    return increaseFunction(await this.engine());
  }

  private async probe(): Promise<PromqlEngine> {
    try {
      await this.query(ENGINE_PROBE_QUERY, new Date());
      return 'victoriametrics';
    } catch (err) {
      if (!(err instanceof PrometheusQueryError) || err.kind === 'unavailable') throw err;
      const engine = engineRefusingProbe(err.errorType, err.message);
      if (engine) return engine;
      throw new PrometheusQueryError(
        `cannot tell which engine answers ${this.baseUrl} (set PROMETHEUS_ENGINE to prometheus or victoriametrics): ${err.message}`,
        'refused',
      );
    }
  }

  /** An instant query at `at`: one value per series (a scalar answer is one series without labels). */
  async query(query: string, at: Date): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const time = at.getTime() / 1000;
    const data = await this.get('query', { query, time: String(time) }, `query ${query} at ${iso(time)}`);
    if (data.resultType === 'vector')
      return data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    if (data.resultType === 'scalar') return [{ metric: {}, value: Number(data.result[1]) }];
    throw new PrometheusQueryError(`Prometheus answered a matrix to the instant query ${query}`, 'refused');
  }

  /** A range query from `start` to `end` (unix seconds, inclusive) every `step` seconds. */
  async queryRange(query: string, start: number, end: number, step: number): Promise<Series[]> {
    const context = `query ${query} from ${iso(start)} to ${iso(end)}`;
    const params = { query, start: String(start), end: String(end), step: String(step) };
    const data = await this.get('query_range', params, context);
    if (data.resultType !== 'matrix')
      throw new PrometheusQueryError(
        `Prometheus answered a ${data.resultType} to the range ${context}`,
        'refused',
      );
    return data.result.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [t, Number(v)]) }));
  }

  private async get(endpoint: string, params: Record<string, string>, context: string): Promise<Data> {
    let status: number;
    let text: string;
    try {
      const res = await this.fetchImpl(`${this.baseUrl}/api/v1/${endpoint}?${new URLSearchParams(params)}`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      // Duck-typed: fetch's errors may come from another realm (test sandboxes), failing instanceof.
      const e = describeError(err);
      if (e.name === 'TimeoutError')
        throw new PrometheusQueryError(
          `Prometheus at ${this.baseUrl} did not answer within ${this.timeoutMs} ms: ${context}`,
          'unavailable',
        );
      const cause = err && typeof err === 'object' && 'cause' in err ? describeError(err.cause) : undefined;
      const detail = cause?.message ? `${e.message} (${cause.message})` : e.message;
      throw new PrometheusQueryError(
        `Prometheus at ${this.baseUrl} unreachable: ${detail}: ${context}`,
        'unavailable',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusQueryError(
        `Prometheus answered HTTP ${status} with no JSON (${snippet(text)}): ${context}`,
        status >= 500 ? 'unavailable' : 'refused',
      );
    }
    const parsed = answer.safeParse(json);
    if (!parsed.success)
      throw new PrometheusQueryError(
        `Prometheus answered HTTP ${status} with an unexpected body (${snippet(text)}): ${context}`,
        'refused',
      );
    if (parsed.data.status === 'error')
      throw new PrometheusQueryError(
        `Prometheus refused the ${context}: ${parsed.data.errorType ?? 'error'}: ${parsed.data.error ?? ''} (HTTP ${status})`,
        status >= 500 && parsed.data.errorType !== 'bad_data' ? 'unavailable' : 'refused',
        parsed.data.errorType,
      );
    if (status !== 200)
      throw new PrometheusQueryError(`Prometheus answered HTTP ${status}: ${context}`, 'unavailable');
    return parsed.data.data;
  }
}

function describeError(err: unknown): { name: string; message: string } {
  if (err && typeof err === 'object') {
    const { name, message } = err as { name?: unknown; message?: unknown };
    return { name: String(name ?? 'Error'), message: String(message ?? err) };
  }
  return { name: 'Error', message: String(err) };
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || 'empty body';
}
