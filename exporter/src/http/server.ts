// The exporter's HTTP surface: /probe, /metrics, /-/healthy, /-/ready, /-/reload and a landing page,
// on node:http. What each route does is the caller's; this file only routes and answers.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { listenHttp } from '@ispmon/service-kit/http';
import type { Logger } from 'pino';
import type { ProbeResult, ScrapeContext } from './probe.js';

export interface Routes {
  logger: Logger;
  /** Called before every /probe so that changed target files are seen without waiting for the poller. */
  refreshTargets(): void;
  probe(target: string, module: string | undefined, scrape: ScrapeContext): Promise<ProbeResult>;
  metrics(): Promise<{ body: string; contentType: string }>;
  ready(): boolean;
  reload(): { ok: true } | { ok: false; error: string };
}

export async function handleRequest(
  routes: Routes,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://exporter');
  const send = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
  try {
    if (url.pathname === '/probe' && req.method === 'GET') {
      const target = url.searchParams.get('target');
      if (!target) return send(400, "missing 'target' parameter\n");
      routes.refreshTargets();
      // A client that hangs up stops the scrape; its own timeout sets the scrape's deadline.
      const hangUp = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) hangUp.abort();
      });
      const timeoutHeader = req.headers['x-prometheus-scrape-timeout-seconds'];
      const result = await routes.probe(target, url.searchParams.get('module') ?? undefined, {
        signal: hangUp.signal,
        ...(typeof timeoutHeader === 'string' ? { timeoutHeader } : {}),
      });
      if (hangUp.signal.aborted) return;
      return send(result.status, result.body, result.contentType);
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      const metrics = await routes.metrics();
      return send(200, metrics.body, metrics.contentType);
    }
    if (url.pathname === '/-/healthy') return send(200, 'OK\n');
    if (url.pathname === '/-/ready') return routes.ready() ? send(200, 'OK\n') : send(503, 'starting\n');
    if (url.pathname === '/-/reload' && (req.method === 'POST' || req.method === 'PUT')) {
      const result = routes.reload();
      return result.ok ? send(200, 'OK\n') : send(400, `${result.error}\n`);
    }
    if (url.pathname === '/') {
      return send(
        200,
        '<html><body><h1>ispmon exporter</h1><p><a href="/metrics">/metrics</a> · /probe?target=NAME&amp;module=MODULE</p></body></html>',
        'text/html',
      );
    }
    return send(404, 'not found\n');
  } catch (err) {
    routes.logger.error(
      { event: 'request_failed', path: url.pathname, error: (err as Error).message },
      'request failed',
    );
    return send(500, 'internal error\n');
  }
}

/** Listens on `host:port` (port 0 picks a free one); resolves with the server and the bound address. */
export async function startServer(
  address: string,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ server: Server; bound: string }> {
  const idx = address.lastIndexOf(':');
  const host = address.slice(0, idx) || '0.0.0.0';
  const port = Number(address.slice(idx + 1));
  const server = await listenHttp((req, res) => void handler(req, res), port, host);
  const a = server.address();
  const bound = typeof a === 'object' && a ? `${host}:${a.port}` : address;
  return { server, bound };
}

/** Graceful stop: no new connections, in-flight requests get up to `graceMs`, then the rest are cut. */
export async function stopServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await Promise.race([closed, new Promise((r) => setTimeout(r, graceMs).unref())]);
  server.closeAllConnections();
}
