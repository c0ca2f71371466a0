// The subscribers' phones: the lab's SMS and WhatsApp gateway stand-ins (lab/src/gateways/messaging.ts,
// the HTTP APIs billing's notices are sent through), with every message a gateway accepted printed as
// one line, the way a subscriber would read it. GET /messages lists them (oldest first, at most 200)
// for the story.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMessageGateway, type GatewayMessage } from '@ispmon/lab';

export interface PhoneMessage {
  channel: 'sms' | 'whatsapp';
  to: string;
  text: string;
  at: string;
  line: string;
}

export interface SubscriberPhones {
  /** The gateways' base URL: POST /sms (JSON, Bearer token) and POST /send (WhatsApp, Fonnte's form). */
  gatewayUrl: string;
  /** The token both gateways accept. */
  token: string;
  /** GET /messages of what was delivered. */
  inboxUrl: string;
  received: PhoneMessage[];
  close(): Promise<void>;
}

/** A delivered message as one line: channel, number, and the message's lines joined with ' | '. */
export function phoneMessage(m: GatewayMessage): PhoneMessage {
  const channel = m.path === '/sms' ? 'sms' : 'whatsapp';
  const text = m.message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' | ');
  return { channel, to: m.to, text, at: m.at.toISOString(), line: `[${channel} ${m.to}] ${text}` };
}

/** Only what reached the subscriber: a 200 answer (a refused token or target is a gateway error). */
const delivered = (m: GatewayMessage): boolean => m.status === 200;

export async function startSubscriberPhones(o: {
  token: string;
  print?: (line: string) => void;
  pollMs?: number;
}): Promise<SubscriberPhones> {
  const print = o.print ?? ((line: string) => console.log(line));
  const gateway = await startMessageGateway({ token: o.token });
  const received: PhoneMessage[] = [];
  let seen = 0;
  // The stand-in records what it answers; this picks up the new entries, in order.
  const drain = (): void => {
    for (; seen < gateway.received.length; seen += 1) {
      const m = gateway.received[seen];
      if (!m || !delivered(m)) continue;
      const p = phoneMessage(m);
      received.push(p);
      if (received.length > 200) received.shift();
      print(p.line);
    }
  };
  const timer = setInterval(drain, o.pollMs ?? 200);
  const inbox: Server = createServer((req, res) => {
    drain();
    if (req.method === 'GET' && req.url === '/messages')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"GET /messages"}');
  });
  await new Promise<void>((r) => inbox.listen(0, '127.0.0.1', r));
  return {
    gatewayUrl: gateway.url,
    token: gateway.token,
    inboxUrl: `http://127.0.0.1:${(inbox.address() as AddressInfo).port}/messages`,
    received,
    close: async () => {
      clearInterval(timer);
      inbox.closeAllConnections();
      await new Promise<void>((r) => inbox.close(() => r()));
      await gateway.close();
    },
  };
}
