// An idle keep-alive connection outlives Node's 5 s default, so a client reusing it after a pause (or
// after its own event loop was busy) is answered instead of reset; a server with the default closes it.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { waitFor } from '@ispmon/testkit';
import { listenHttp } from '../src/http.js';

type Conn = { socket: Socket; ended: () => boolean; get: () => Promise<string> };

// A raw connection that reads all the time (so the server's FIN is seen) and sends keep-alive GETs.
const open = async (server: Server): Promise<Conn> => {
  const { port } = server.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  let ended = false;
  let text = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    waiting?.();
  });
  socket.on('end', () => (ended = true));
  socket.on('error', () => (ended = true));
  await new Promise((r) => socket.once('connect', r));
  const get = (): Promise<string> =>
    new Promise((resolve) => {
      text = '';
      waiting = () => {
        if (text.includes('\r\n\r\nok')) resolve(text);
      };
      socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n');
    });
  return { socket, ended: () => ended, get };
};

describe('listenHttp', () => {
  it('keeps an idle keep-alive connection past 5 s and answers on it; the Node default closes it', async () => {
    const handler = (_req: unknown, res: { end: (s: string) => void }): void => res.end('ok');
    const ours = await listenHttp(handler as never, 0, '127.0.0.1');
    const plain = createServer(handler as never);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const [a, b] = await Promise.all([open(ours), open(plain)]);
      await Promise.all([a.get(), b.get()]);
      const idle = performance.now();
      await waitFor('the default server to close its idle connection', async () =>
        b.ended() ? true : undefined,
      );
      expect(performance.now() - idle).toBeGreaterThan(4_000); // Node's default keepAliveTimeout, 5 s
      expect(a.ended()).toBe(false);
      expect(await a.get()).toMatch(/^HTTP\/1\.1 200 OK/);
      a.socket.destroy();
      b.socket.destroy();
    } finally {
      ours.closeAllConnections();
      plain.closeAllConnections();
      await Promise.all([new Promise((r) => ours.close(r)), new Promise((r) => plain.close(r))]);
    }
  }, 30_000);

  it('rejects when the port is taken', async () => {
    const first = await listenHttp(() => undefined, 0, '127.0.0.1');
    const { port } = first.address() as { port: number };
    try {
      await expect(listenHttp(() => undefined, port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((r) => first.close(r));
    }
  });
});
