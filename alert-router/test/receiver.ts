// A loopback HTTP receiver standing in for Telegram, Slack, ntfy, SMS and webhook endpoints. It records
// every request (path, headers, body) and answers what `respond` says, possibly after a delay.
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Answer {
  status: number;
  body?: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startReceiver(
  respond: (r: Received, n: number) => Answer | Promise<Answer> = () => ({ status: 200 }),
): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      void Promise.resolve(respond(r, received.length)).then((out) => {
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(out.body ?? '{"ok":true}');
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    received,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
