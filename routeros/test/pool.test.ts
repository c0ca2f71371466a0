// The connection pool against a tiny router that logs in anyone and answers each command only when
// the test releases it, so the number of commands in flight at the router can be counted.
import { createServer, type Server, type Socket } from 'node:net';
import { RouterOsError } from '../src/client.js';
import { RouterPool, type RouterEndpoint } from '../src/pool.js';
import { encodeCommand, ReplyReader } from '../src/wire.js';

interface HeldCommand {
  path: string;
  answer: () => void;
}

class HoldingRouter {
  readonly server: Server;
  connects = 0;
  logins = 0;
  held: HeldCommand[] = [];
  maxHeld = 0;
  port = 0;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => {
      this.connects += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const reader = new ReplyReader();
      socket.on('data', (chunk: Buffer) => {
        for (const words of reader.push(chunk)) {
          const [path = '', ...rest] = words.map((w) => w.toString('latin1'));
          const tag = rest.find((w) => w.startsWith('.tag='));
          const reply = (...sentence: string[]): void =>
            void socket.write(encodeCommand([...sentence, ...(tag ? [tag] : [])]));
          if (path === '/login') {
            this.logins += 1;
            reply('!done');
            continue;
          }
          this.held.push({ path, answer: () => reply('!done') });
          this.maxHeld = Math.max(this.maxHeld, this.held.length);
        }
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  answerAll(): number {
    const held = this.held;
    this.held = [];
    for (const h of held) h.answer();
    return held.length;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

// Loopback round trips take microseconds idle and can take seconds at a load of 20: a wide deadline,
// and a 1 ms timer rather than a setImmediate spin that would take CPU from the server being waited on.
const until = async (check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 30 s');
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('RouterPool', () => {
  let router: HoldingRouter;
  let endpoint: RouterEndpoint;

  beforeEach(async () => {
    router = new HoldingRouter();
    await router.listen();
    endpoint = {
      name: 'r1',
      host: '127.0.0.1',
      port: router.port,
      username: 'u',
      password: 'p',
      tls: false,
      timeoutMs: 5_000,
    };
  });
  afterEach(() => router.close());

  it('keeps at most maxInFlight commands at the router, across sessions, and sends them all in the end', async () => {
    const pool = new RouterPool({ maxInFlight: 3 });
    const [a, b] = [await pool.session(endpoint), await pool.session(endpoint)];
    expect([a.reused, b.reused]).toEqual([false, true]);
    const done = Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).command(`/x${i}/print`)));
    let answered = 0;
    while (answered < 10) {
      await until(() => router.held.length === Math.min(3, 10 - answered));
      answered += router.answerAll();
    }
    await done;
    expect(router.maxHeld).toBe(3);
    expect([a.sent + b.sent, router.connects, router.logins]).toEqual([10, 1, 1]);
    await pool.closeAll();
  });

  it('dials again after a session discards a dead connection', async () => {
    const opened: number[] = [];
    const pool = new RouterPool({ onOpenChange: (n) => opened.push(n) });
    const first = await pool.session(endpoint);
    first.discard();
    expect(first.closed).toBe(true);
    const second = await pool.session(endpoint);
    expect([second.reused, router.connects, router.logins]).toEqual([false, 2, 2]);
    expect(opened).toEqual([1, 0, 1]);
    await pool.closeAll();
    expect(pool.openCount()).toBe(0);
  });

  it('fails fast inside the reconnect backoff and dials again after it', async () => {
    let now = 1_000_000;
    const pool = new RouterPool({ reconnectBackoff: { initialMs: 500, maxMs: 30_000 }, now: () => now });
    await router.close();
    const refused = await pool.session(endpoint).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RouterOsError);
    expect((refused as RouterOsError).reason).toBe('refused');
    // Inside the window: the same error, no new dial (nothing listens, so a dial would also be refused,
    // but with a new error object).
    expect(await pool.session(endpoint).catch((e: unknown) => e)).toBe(refused);
    now += 500;
    const again = await pool.session(endpoint).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(RouterOsError);
    expect(again).not.toBe(refused);
    // Without backoff every call dials.
    const eager = new RouterPool({ reconnectBackoff: false });
    const e1 = await eager.session(endpoint).catch((e: unknown) => e);
    const e2 = await eager.session(endpoint).catch((e: unknown) => e);
    expect(e1).not.toBe(e2);
    router = new HoldingRouter();
    await router.listen();
  });

  it('opens a new connection when the endpoint changes and closes routers no longer retained', async () => {
    const pool = new RouterPool();
    const first = await pool.session(endpoint);
    const changed = await pool.session({ ...endpoint, password: 'rotated' });
    expect([first.closed, changed.reused, router.logins]).toEqual([true, false, 2]);
    pool.retain(new Set(['other']));
    expect(changed.closed).toBe(true);
    expect(pool.openCount()).toBe(0);
  });
});
