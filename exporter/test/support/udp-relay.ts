// A UDP relay between the exporter and a real agent, for tests that must see what reaches the agent:
// it counts the requests it forwards and can drop the first few (to make the exporter retry).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface UdpRelay {
  port: number;
  /** Requests forwarded to the agent so far. */
  readonly forwarded: number;
  /** Requests received from clients, dropped ones included. */
  readonly received: number;
  /** Received requests that repeat an earlier one byte for byte (a client's retries). */
  readonly repeats: number;
  /** Drops the next `n` requests instead of forwarding them. */
  drop(n: number): void;
  close(): Promise<void>;
}

/** Starts a relay on a free 127.0.0.1 port in front of `127.0.0.1:agentPort`. */
export async function startUdpRelay(agentPort: number): Promise<UdpRelay> {
  const front = createSocket('udp4');
  // One upstream socket per client address, so replies find their way back.
  const upstream = new Map<string, Socket>();
  let forwarded = 0;
  let received = 0;
  let dropping = 0;
  const seen = new Set<string>();
  let repeats = 0;
  front.on('message', (msg: Buffer, client: RemoteInfo) => {
    received += 1;
    const bytes = msg.toString('base64');
    if (seen.has(bytes)) repeats += 1;
    else seen.add(bytes);
    if (dropping > 0) {
      dropping -= 1;
      return;
    }
    const key = `${client.address}:${client.port}`;
    let up = upstream.get(key);
    if (!up) {
      up = createSocket('udp4');
      up.on('message', (reply: Buffer) => front.send(reply, client.port, client.address));
      upstream.set(key, up);
    }
    forwarded += 1;
    up.send(msg, agentPort, '127.0.0.1');
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    get forwarded() {
      return forwarded;
    },
    get received() {
      return received;
    },
    get repeats() {
      return repeats;
    },
    drop(n: number) {
      dropping += n;
    },
    async close() {
      for (const s of upstream.values()) s.close();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
