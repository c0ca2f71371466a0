// ispmon services as child processes, as they run in production (dist/main.js, configuration from the
// environment), for the tests that SIGKILL them: start, wait until ready, kill, read their /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { waitFor } from '@ispmon/testkit';
import { repoRoot } from './paths.js';

export interface ServiceProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** The last 20,000 characters the process wrote (stdout and stderr). */
  output: () => string;
}

/**
 * Starts `main` (a path under the repository, e.g. `billing/dist/main.js`) with `env` on top of PATH,
 * listening on a port the kernel picks (PORT=0 unless `env` says where), and resolves once the process
 * logs its `listening` event (every ispmon service does, at info level), with the address it logged:
 * no port chosen in advance that another process could take meanwhile.
 */
export async function spawnService(
  name: string,
  main: string,
  env: Record<string, string>,
  /** Told of the child at once, so that a test's clean-up can kill one that never got ready. */
  onSpawn?: (child: ChildProcess) => void,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(repoRoot, main)], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  let out = '';
  let found: (url: string) => void = () => undefined;
  const listening = new Promise<string>((resolve, reject) => {
    found = resolve;
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}): ${out}`)));
    setTimeout(
      () => reject(new Error(`${name} did not log 'listening' within 90 s: ${out}`)),
      90_000,
    ).unref();
  });
  const keep = (c: Buffer): void => {
    const text = c.toString();
    out = (out + text).slice(-20_000);
    const m = /"event":"listening".*?"(?:url|address)":"(?:http:\/\/)?[^":]+:(\d+)/.exec(text);
    if (m) found(m[1]!);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const port = Number(
    await listening.catch((err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    }),
  );
  return { name, url: `http://127.0.0.1:${port}`, port, child, output: () => out };
}

export const running = (s: ServiceProcess): boolean =>
  s.child.exitCode === null && s.child.signalCode === null;

/** Waits until `path` answers 2xx (generous: a loaded machine starts Node.js services slowly). */
export async function serviceReady(s: ServiceProcess, path = '/readyz'): Promise<void> {
  await waitFor(
    `${s.name} ready`,
    async () => {
      if (!running(s)) throw new Error(`${s.name} exited: ${s.output()}`);
      return (await fetch(`${s.url}${path}`).catch(() => undefined))?.ok ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
}

export async function sigkill(s: ServiceProcess): Promise<void> {
  if (!running(s)) return;
  const exited = once(s.child, 'exit');
  s.child.kill('SIGKILL');
  await exited;
}

/** One sample of a metric with these labels from a service's /metrics, or undefined. */
export async function metricSample(
  s: ServiceProcess,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const { text } = await request(`${s.url}/metrics`);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.slice(0, l.indexOf('}')).includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** `fn` over `items`, at most `width` at a time; results in the items' order. */
export async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
    }),
  );
  return out;
}

/**
 * testkit's `waitFor`, given up as soon as `signal` aborts: when one of several tracks of a test fails,
 * the others stop polling servers that are being stopped instead of running on to their timeouts.
 */
export async function waitForUnless<T>(
  signal: AbortSignal,
  what: string,
  check: () => Promise<T | undefined>,
  options?: { timeoutMs?: number; intervalMs?: number },
): Promise<T> {
  const stop = Symbol('stop');
  const value = await waitFor<T | typeof stop>(what, async () => (signal.aborted ? stop : check()), options);
  if (value === stop) throw new Error(`stopped waiting for ${what}: another track failed`);
  return value;
}

/** `n` distinct loopback ports, free a moment ago (held together while picked, so none is picked twice). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/**
 * One HTTP request on its own connection (no keep-alive): the test process, busy with the lab, can stall
 * long enough that a pooled connection the server has just closed gets reused ("other side closed").
 */
export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no answer within 30 s`)));
    req.on('error', (err) => reject(new Error(`${init.method ?? 'GET'} ${url}: ${err.message}`)));
    req.end(init.body);
  });
}
