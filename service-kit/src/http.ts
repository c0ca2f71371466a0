// Listening for HTTP with idle keep-alive connections held longer than the clients that call the services
// keep theirs. With Node's 5 s default the server can close an idle connection in the same instant a
// client reuses it for a POST, which then fails with ECONNRESET and is not retried (seen with a 10 MiB
// webhook when the event loop was busy for 6 s; Go clients such as Alertmanager's keep idle connections
// for up to 5 minutes and do not replay a POST that was already written).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Longer than the longest idle time of the clients: Alertmanager's and Prometheus's Go clients, 5 min. */
export const KEEP_ALIVE_MS = 310_000;

export async function listenHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer(handler);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
