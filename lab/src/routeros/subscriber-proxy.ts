// A subscriber's browser behind the simulated router: an HTTP proxy (give it to Chromium with
// --proxy-server) that sends every request it receives through the router's firewall as one subscriber
// (subscriberHttpRequest), so a real browser meets the walled garden's dst-nat and drops. Plain HTTP
// only: CONNECT (https) is refused, as the garden's portal is http. A request the router drops or
// rejects gets 502 with the verdict, the way a browser would see a connection that never answers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { subscriberHttpRequest, type SubscriberResult } from './forwarding.js';
import type { RouterModel } from './model.js';
import { HTTP_SERVER_OPTIONS } from '../keep-alive.js';

export interface SubscriberProxyOptions {
  /** The subscriber's address (their PPP session's `address`; 127.x makes it the real source). */
  src: string;
  internet?: ReadonlyMap<string, string>;
  dnsServer?: string;
  timeoutMs?: number;
}

export interface SubscriberProxy {
  /** `http://127.0.0.1:port`, for --proxy-server. */
  url: string;
  /** Every request and what became of it, in order. */
  log: Array<{ method: string; url: string; outcome: SubscriberResult['outcome']; status?: number }>;
  close(): Promise<void>;
}

/** Headers that describe one hop, not the request (RFC 9110 §7.6.1), plus the proxy's own. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

function endToEnd(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

export async function startSubscriberProxy(
  m: RouterModel,
  o: SubscriberProxyOptions,
): Promise<SubscriberProxy> {
  const log: SubscriberProxy['log'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '';
    if (!/^http:\/\//i.test(target)) {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('a proxy request needs an absolute http:// URL');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const method = req.method ?? 'GET';
    const r = await subscriberHttpRequest(m, {
      src: o.src,
      url: target,
      method,
      headers: endToEnd(req.headers),
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      ...(o.internet ? { internet: o.internet } : {}),
      ...(o.dnsServer ? { dnsServer: o.dnsServer } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
    log.push({
      method,
      url: target,
      outcome: r.outcome,
      ...(r.outcome === 'answered' ? { status: r.status } : {}),
    });
    if (r.outcome !== 'answered') {
      const why = r.outcome === 'unreachable' ? r.reason : `filter rule ${r.verdict.filterRule ?? '?'}`;
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`the lab router: ${r.outcome} (${why})`);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    res.writeHead(r.status, { ...headers, 'content-length': String(r.bytes.length) }).end(r.bytes);
  };
  const server: Server = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`the lab router: ${(err as Error).message}`);
    });
  });
  // https through CONNECT would need a tunnel the firewall cannot look into: refuse it plainly.
  server.on('connect', (_req, socket) => socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
