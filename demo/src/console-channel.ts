// The console channel: a webhook receiver for the alert router's `webhook` channel type that checks the
// HMAC signature and prints each notification as one line. The demo runs it in-process; Compose runs it
// as the `notify-console` service (`node demo/dist/console-channel.js`, PORT and NOTIFY_CONSOLE_SECRET).
// GET /notifications lists what arrived (newest last, at most 200), for the demo's story.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** The alert router's webhook body (version 1), the fields printed. */
export interface WebhookNotification {
  version: '1';
  kind: string;
  incident: { id: string; alertname: string; severity: string; summary: string; url: string };
}
export type ConsoleNotification = WebhookNotification & { receivedAt: string; line: string };

/** Parses a webhook body; throws naming the first missing field. */
export function parseNotification(body: string): WebhookNotification {
  const v = JSON.parse(body) as { version?: unknown; kind?: unknown; incident?: Record<string, unknown> };
  if (v.version !== '1') throw new Error('version: expected "1"');
  if (typeof v.kind !== 'string') throw new Error('kind: expected a string');
  for (const f of ['id', 'alertname', 'severity', 'summary', 'url'])
    if (typeof v.incident?.[f] !== 'string') throw new Error(`incident.${f}: expected a string`);
  return v as WebhookNotification;
}

export interface ConsoleChannel {
  url: string;
  received: ConsoleNotification[];
  close(): Promise<void>;
}

/** The line printed for a notification. */
export function formatNotification(n: WebhookNotification): string {
  return `[notify] ${n.kind.padEnd(8)} ${n.incident.severity} ${n.incident.alertname}: ${n.incident.summary} (${n.incident.url})`;
}

/** Whether `signature` (`sha256=<hex>`) signs `<timestamp>.<body>` with `secret`. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const want = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export async function startConsoleChannel(o: {
  secret: string;
  host?: string;
  port?: number;
  print?: (line: string) => void;
}): Promise<ConsoleChannel> {
  const print = o.print ?? ((line: string) => console.log(line));
  const received: ConsoleNotification[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/notifications') return reply(200, received);
      if (req.method === 'GET' && req.url === '/healthz') return reply(200, { status: 'ok' });
      if (req.method !== 'POST' || req.url !== '/notify') return reply(404, { error: 'POST /notify' });
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-ispmon-timestamp'] ?? '');
      const signature = String(req.headers['x-ispmon-signature'] ?? '');
      if (!verifySignature(o.secret, timestamp, body, signature)) {
        print('[notify] refused a notification with a missing or wrong signature');
        return reply(401, { error: 'bad signature' });
      }
      let parsed: WebhookNotification;
      try {
        parsed = parseNotification(body);
      } catch (err) {
        print(`[notify] unreadable notification: ${(err as Error).message.split('\n')[0]}`);
        return reply(400, { error: 'not an ispmon webhook notification' });
      }
      const line = formatNotification(parsed);
      received.push({ ...parsed, receivedAt: new Date().toISOString(), line });
      if (received.length > 200) received.shift();
      print(line);
      reply(200, { ok: true });
    });
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/notify`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// As a service (Compose): PORT (9000), HOST (0.0.0.0), NOTIFY_CONSOLE_SECRET (required).
if (process.argv[1]?.endsWith('console-channel.js')) {
  const secret = process.env.NOTIFY_CONSOLE_SECRET;
  if (!secret) {
    console.error('NOTIFY_CONSOLE_SECRET is required (the secret of the alert router’s console channel)');
    process.exit(2);
  }
  const channel = await startConsoleChannel({
    secret,
    host: process.env.HOST ?? '0.0.0.0',
    port: Number(process.env.PORT ?? 9000),
  });
  console.log(`console channel listening on ${channel.url}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => void channel.close().then(() => process.exit(0)));
}
