import { createServer, type Server } from 'node:http';
import { freePort } from '@ispmon/testkit';
import { PrometheusClient, PrometheusQueryError } from './client.js';

/** A loopback server answering every request with the given status and body. */
async function answering(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(body),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server };
}

async function failure(p: Promise<unknown>): Promise<PrometheusQueryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PrometheusQueryError);
  return err as PrometheusQueryError;
}

describe('PrometheusClient', () => {
  it('reads vector and scalar answers of instant queries as numbers', async () => {
    const vector = await answering(
      200,
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { link: 'L-1' }, value: [1, '12.5'] }] },
      }),
    );
    const scalar = await answering(
      200,
      JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } }),
    );
    try {
      expect(await new PrometheusClient({ url: vector.url }).query('x', new Date(1000))).toEqual([
        { metric: { link: 'L-1' }, value: 12.5 },
      ]);
      expect(await new PrometheusClient({ url: scalar.url }).query('1+2', new Date(1000))).toEqual([
        { metric: {}, value: 3 },
      ]);
    } finally {
      vector.server.close();
      scalar.server.close();
    }
  });

  it('tells a refused query (bad PromQL) from an unavailable server (refused connection, 503 page)', async () => {
    const bad = await answering(
      400,
      JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }),
    );
    const down = await answering(503, '<html>Service Unavailable</html>');
    try {
      const refused = await failure(new PrometheusClient({ url: bad.url }).query('sum(', new Date(0)));
      expect(refused.kind).toBe('refused');
      expect(refused.message).toMatch(
        /^Prometheus refused the query sum\( at 1970-01-01T00:00:00.000Z: bad_data: parse error \(HTTP 400\)$/,
      );
      const page = await failure(new PrometheusClient({ url: down.url }).query('up', new Date(0)));
      expect(page.kind).toBe('unavailable');
      expect(page.message).toContain('answered HTTP 503 with no JSON (<html>Service Unavailable</html>)');
      const port = await freePort();
      const closed = await failure(
        new PrometheusClient({ url: `http://127.0.0.1:${port}` }).query('up', new Date(0)),
      );
      expect(closed.kind).toBe('unavailable');
      expect(closed.message).toMatch(/unreachable: fetch failed \(.*ECONNREFUSED.*\): query up at/);
    } finally {
      bad.server.close();
      down.server.close();
    }
  });

  it('under engine auto, asks once and keeps the answer; a failed probe is not kept and names what to set', async () => {
    let probes = 0;
    let up = false;
    // A Prometheus-API server that is unreachable-like (503 page) until `up`, then Prometheus's refusal.
    const server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      if (query.startsWith('increase_prometheus(')) probes += 1;
      if (!up) return res.writeHead(503).end('<html>starting</html>');
      res.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'error',
          errorType: 'bad_data',
          error: '1:1: parse error: unknown function with name "increase_prometheus"',
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const proxy = await answering(401, '<html>Unauthorized</html>');
    try {
      const client = new PrometheusClient({ url: `http://127.0.0.1:${port}`, engine: 'auto' });
      const unavailable = await failure(client.engine());
      expect(unavailable.kind).toBe('unavailable');
      up = true;
      expect(await client.increaseFunction()).toBe('increase');
      expect(await client.engine()).toBe('prometheus');
      expect(probes).toBe(2); // the failed probe and the one that answered; none after

      const unknown = await failure(new PrometheusClient({ url: proxy.url, engine: 'auto' }).engine());
      expect(unknown.kind).toBe('refused');
      expect(unknown.message).toMatch(
        /^cannot tell which engine answers http:\/\/127\.0\.0\.1:\d+ \(set PROMETHEUS_ENGINE to prometheus or victoriametrics\): Prometheus answered HTTP 401 with no JSON/,
      );
      // A named engine asks nothing.
      const named = new PrometheusClient({ url: proxy.url, engine: 'victoriametrics' });
      expect(await named.increaseFunction()).toBe('increase_prometheus');
    } finally {
      server.closeAllConnections();
      server.close();
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });
});
