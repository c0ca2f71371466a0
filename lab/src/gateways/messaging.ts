// Message gateway stand-ins on loopback for tests and the demo, speaking the HTTP APIs Indonesian ISPs
// send subscriber notices through:
//   POST /send  WhatsApp in the manner of Fonnte: `Authorization: <token>` (no scheme), form fields
//               `target`, `message` (and optional `countryCode`); it answers 200 with `{"status": true,
//               "detail": …, "id": […], "target": […]}` or, for a bad token or target, 200 with
//               `{"status": false, "reason": …}`, as Fonnte does;
//   POST /sms   a JSON SMS gateway: `Authorization: Bearer <token>`, body `{"to", "message"}`; 401 for a
//               bad token, 400 for a missing field, 200 `{"status": "queued", "id"}`.
// Every request is recorded (when answered) with its Idempotency-Key; `failNext` answers 500 to the next
// requests and `hold` keeps requests waiting until `release`, so tests can fail or freeze a delivery.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { HTTP_SERVER_OPTIONS } from '../keep-alive.js';

export interface GatewayMessage {
  path: '/send' | '/sms';
  key: string | undefined;
  to: string;
  message: string;
  at: Date;
  /** What the gateway answered. */
  status: number;
}

export interface MessageGateway {
  url: string;
  token: string;
  received: GatewayMessage[];
  /** Answer 500 to the next `n` requests (recorded with status 500). */
  failNext(n: number): void;
  /** Keep the following requests waiting (they are recorded when they arrive) until `release()`. */
  hold(): void;
  release(): void;
  /** Requests currently held. */
  readonly held: number;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startMessageGateway(o: { token?: string } = {}): Promise<MessageGateway> {
  const token = o.token ?? 'lab-gateway-token';
  const received: GatewayMessage[] = [];
  let failures = 0;
  let holding = false;
  let waiting: Array<() => void> = [];
  let nextId = 1;
  const server: Server = createServer(HTTP_SERVER_OPTIONS, (req, res) => {
    void (async () => {
      const text = await bodyOf(req);
      const key = req.headers['idempotency-key'] as string | undefined;
      const path = req.url === '/send' ? '/send' : req.url === '/sms' ? '/sms' : undefined;
      const answer = (status: number, body: unknown, to = '', message = ''): void => {
        if (path) received.push({ path, key, to, message, at: new Date(), status });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !path) return answer(404, { error: 'not found' });
      let to = '';
      let message = '';
      if (path === '/send') {
        const form = new URLSearchParams(text);
        to = form.get('target') ?? '';
        message = form.get('message') ?? '';
      } else {
        try {
          const json = JSON.parse(text) as { to?: unknown; message?: unknown };
          to = typeof json.to === 'string' ? json.to : '';
          message = typeof json.message === 'string' ? json.message : '';
        } catch {
          return answer(400, { error: 'body is not JSON' });
        }
      }
      if (holding) await new Promise<void>((r) => waiting.push(r));
      if (failures > 0) {
        failures -= 1;
        return answer(500, { error: 'gateway overloaded' }, to, message);
      }
      const auth = req.headers.authorization ?? '';
      if (path === '/send') {
        if (auth !== token) return answer(200, { status: false, reason: 'token invalid' }, to, message);
        if (!/^\+?\d{8,15}$/.test(to))
          return answer(200, { status: false, reason: 'invalid target' }, to, message);
        return answer(
          200,
          {
            status: true,
            detail: 'success! message in queue',
            id: [String(nextId++)],
            process: 'pending',
            target: [to],
          },
          to,
          message,
        );
      }
      if (auth !== `Bearer ${token}`) return answer(401, { error: 'invalid token' }, to, message);
      if (!to || !message) return answer(400, { error: 'to and message are required' }, to, message);
      return answer(200, { status: 'queued', id: String(nextId++) }, to, message);
    })().catch((err: unknown) => {
      res.writeHead(500).end(String((err as Error).message));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    received,
    failNext: (n) => {
      failures = n;
    },
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      const w = waiting;
      waiting = [];
      for (const r of w) r();
    },
    get held() {
      return waiting.length;
    },
    close: async () => {
      holding = false;
      for (const r of waiting) r();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
