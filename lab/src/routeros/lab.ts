// Many simulated routers in one process, each on its own loopback port (and an API-SSL port when TLS is
// on), with a scenario interface: programmatic (SimRouter methods) and HTTP JSON on loopback.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { RouterModel, type RouterSpec } from './model.js';
import { ApiSession, type SessionBehaviour } from './session.js';
import { HTTP_SERVER_OPTIONS } from '../keep-alive.js';

export interface RouterOptions {
  name?: string;
  /** RouterOS version this router behaves as: e.g. 6.42 (MD5 login), 6.49, 7.12, 7.18 (`!empty`). */
  version?: string;
  username?: string;
  password?: string;
  interfaces?: number;
  pppSessions?: number;
  seed?: number;
  /** Fixed API port (default: a free one). */
  port?: number;
  tlsPort?: number;
}

export interface RouterLabOptions {
  /** Routers to start: explicit list, or a count of default routers. */
  routers?: RouterOptions[];
  count?: number;
  host?: string;
  /** Also listen for API-SSL (TLS) on a second port per router. */
  tls?: boolean;
  /** Probability per router per second that one PPP session drops and redials (default 0: stable). */
  pppChurn?: number;
  /** Serve the HTTP control API on this port (0 = a free port; undefined = no HTTP API). */
  controlPort?: number;
  seed?: number;
  /** Versions assigned round-robin when `count` is used. */
  versions?: string[];
  /** The routers' clock (ms since epoch); tests pass a frozen one to compare counters exactly. */
  clock?: () => number;
}

export type Unresponsive = 'silent' | 'refuse' | false;

export class SimRouter {
  port = 0;
  tlsPort: number | undefined;
  private server: Server | undefined;
  private tlsServer: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private unresponsive: Unresponsive = false;
  private readonly behaviour: SessionBehaviour = { silent: false, closeMidReply: false };

  constructor(
    readonly model: RouterModel,
    readonly host: string,
    private readonly tlsOptions: TlsOptions | undefined,
  ) {}

  get name(): string {
    return this.model.name;
  }
  get version(): string {
    return this.model.version;
  }
  get username(): string {
    return this.model.username;
  }
  get password(): string {
    return this.model.password;
  }

  async listen(port = 0, tlsPort = 0): Promise<void> {
    this.server = createServer((socket) => this.accept(socket));
    this.port = await listenOn(this.server, this.host, port || this.port);
    if (this.tlsOptions) {
      this.tlsServer = createTlsServer(this.tlsOptions, (socket) => this.accept(socket));
      this.tlsPort = await listenOn(this.tlsServer, this.host, tlsPort || this.tlsPort || 0);
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    new ApiSession(socket, this.model, this.behaviour, () => this.sockets.delete(socket));
  }

  /** `silent`: connections are accepted but never answered; `refuse`: the port is closed; false: normal. */
  async setUnresponsive(mode: Unresponsive): Promise<void> {
    if (mode === this.unresponsive) return;
    const previous = this.unresponsive;
    this.unresponsive = mode;
    this.behaviour.silent = mode === 'silent';
    if (mode === 'refuse') {
      await this.closeServers();
    } else if (previous === 'refuse') {
      await this.listen(this.port, this.tlsPort);
    }
  }

  /** Every command on `menu` (e.g. `/interface/ethernet`) gets `!trap =message=<message>`; false lifts it. */
  refuseMenu(menu: string, message: string | false = 'not enough permissions (9)'): void {
    this.behaviour.refusedMenus ??= new Map();
    if (message === false) this.behaviour.refusedMenus.delete(menu);
    else this.behaviour.refusedMenus.set(menu, message);
  }

  /** The next reply on any connection is cut in half and the connection closed. */
  closeMidReply(on = true): void {
    this.behaviour.closeMidReply = on;
  }

  setInterfaceRunning(name: string, running: boolean): boolean {
    return this.model.setInterfaceRunning(name, running);
  }

  /** Receive errors per second on top of the background rate (a failing optic); 0 stops them. */
  setInterfaceErrorRate(name: string, perSecond: number): boolean {
    return this.model.setInterfaceErrorRate(name, perSecond);
  }

  disconnectAllPpp(reconnectAfterMs = 5_000): number {
    return this.model.disconnectAll(reconnectAfterMs);
  }

  secrets(): RouterModel['secrets'] {
    return this.model.secrets;
  }
  activeSessions(): RouterModel['active'] {
    return this.model.active;
  }
  interfaces(): RouterModel['interfaces'] {
    return this.model.interfaces;
  }

  describe(): Record<string, unknown> {
    return {
      name: this.name,
      version: this.version,
      host: this.host,
      port: this.port,
      tlsPort: this.tlsPort,
      username: this.username,
      password: this.password,
      unresponsive: this.unresponsive,
      interfaces: this.model.interfaces.length,
      pppActive: this.model.active.length,
      pppSecrets: this.model.secrets.length,
    };
  }

  private async closeServers(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await Promise.all(
      [this.server, this.tlsServer].map((s) =>
        s ? new Promise<void>((r) => s.close(() => r())) : undefined,
      ),
    );
    this.server = undefined;
    this.tlsServer = undefined;
  }

  async stop(): Promise<void> {
    await this.closeServers();
  }
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** A self-signed certificate for API-SSL, made with openssl (Node cannot create X.509 itself). */
export function selfSignedCertificate(commonName = 'ispmon-lab'): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-lab-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '365',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RouterLab {
  routers: SimRouter[];
  router(name: string): SimRouter;
  /** The HTTP control API base URL, when enabled. */
  controlUrl: string | undefined;
  /** PEM of the API-SSL certificate, when TLS is on (for clients that verify). */
  certificate: Buffer | undefined;
  stop(): Promise<void>;
}

const DEFAULT_VERSIONS = ['7.18.2', '7.12.1', '6.49.10', '6.42.12'];

export async function startRouterLab(options: RouterLabOptions = {}): Promise<RouterLab> {
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? 1;
  const versions = options.versions ?? DEFAULT_VERSIONS;
  const specs: RouterOptions[] =
    options.routers ??
    Array.from({ length: options.count ?? 1 }, (_, i) => ({
      name: `router-${String(i + 1).padStart(4, '0')}`,
      version: versions[i % versions.length],
    }));
  const tlsMaterial = options.tls ? selfSignedCertificate() : undefined;
  const routers: SimRouter[] = [];
  for (const [i, o] of specs.entries()) {
    const spec: RouterSpec = {
      name: o.name ?? `router-${i + 1}`,
      version: o.version ?? '7.12.1',
      username: o.username ?? 'admin',
      password: o.password ?? 'lab-password',
      interfaces: o.interfaces ?? 24,
      pppSessions: o.pppSessions ?? 100,
      seed: o.seed ?? seed * 100_003 + i,
    };
    const router = new SimRouter(new RouterModel(spec, options.clock), host, tlsMaterial);
    await router.listen(o.port ?? 0, o.tlsPort ?? 0);
    routers.push(router);
  }
  const byName = new Map(routers.map((r) => [r.name, r]));
  const churn = options.pppChurn ?? 0;
  const ticker = setInterval(() => {
    for (const r of routers) r.model.tick(churn);
  }, 250);
  ticker.unref();

  let control: ReturnType<typeof createHttpServer> | undefined;
  let controlUrl: string | undefined;
  if (options.controlPort !== undefined) {
    control = createHttpServer(HTTP_SERVER_OPTIONS, (req, res) => void handleControl(req, res, byName));
    const port = await new Promise<number>((resolve) =>
      control?.listen(options.controlPort, host, () => {
        const a = control?.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      }),
    );
    controlUrl = `http://${host}:${port}`;
  }

  return {
    routers,
    router(name: string): SimRouter {
      const r = byName.get(name);
      if (!r) throw new Error(`no simulated router named ${name}`);
      return r;
    },
    controlUrl,
    certificate: tlsMaterial?.cert,
    async stop(): Promise<void> {
      clearInterval(ticker);
      await Promise.all(routers.map((r) => r.stop()));
      if (control) {
        control.closeAllConnections();
        await new Promise((r) => control?.close(r));
      }
    },
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * HTTP control API (loopback only):
 *   GET  /routers                                  list routers with address, ports and credentials
 *   POST /routers/:name/unresponsive  {"mode":"silent"|"refuse"|false}
 *   POST /routers/:name/close-mid-reply
 *   POST /routers/:name/interfaces/:iface  {"running":false} and/or {"errorsPerSecond":5}
 *   POST /routers/:name/ppp/disconnect-all  {"reconnectAfterMs":5000}
 *   POST /routers/:name/netwatch  {"host":"10.255.0.1","up":false}
 *   POST /routers/:name/health  {"temperature":85}
 */
async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  routers: Map<string, SimRouter>,
): Promise<void> {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  try {
    const url = new URL(req.url ?? '/', 'http://lab');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'routers') {
      send(
        200,
        [...routers.values()].map((r) => r.describe()),
      );
      return;
    }
    if (parts[0] !== 'routers' || parts[1] === undefined) {
      send(404, { error: `unknown path ${url.pathname}` });
      return;
    }
    const router = routers.get(parts[1]);
    if (!router) {
      send(404, { error: `no router named ${parts[1]}` });
      return;
    }
    if (req.method === 'GET' && parts.length === 2) {
      send(200, router.describe());
      return;
    }
    if (req.method !== 'POST') {
      send(405, { error: 'use POST' });
      return;
    }
    const body = await readJson(req);
    const action = parts.slice(2).join('/');
    if (action === 'unresponsive') {
      const mode = body.mode;
      if (mode !== 'silent' && mode !== 'refuse' && mode !== false) {
        send(400, { error: 'mode must be "silent", "refuse" or false' });
        return;
      }
      await router.setUnresponsive(mode);
    } else if (action === 'close-mid-reply') {
      router.closeMidReply(true);
    } else if (parts[2] === 'interfaces' && parts[3] !== undefined) {
      const { running, errorsPerSecond } = body;
      const badRate =
        errorsPerSecond !== undefined &&
        (typeof errorsPerSecond !== 'number' || !Number.isFinite(errorsPerSecond) || errorsPerSecond < 0);
      if ((running !== undefined && typeof running !== 'boolean') || badRate) {
        send(400, { error: 'running must be a boolean and errorsPerSecond a number ≥ 0' });
        return;
      }
      if (running === undefined && errorsPerSecond === undefined) {
        send(400, { error: 'give running (boolean) or errorsPerSecond (number ≥ 0)' });
        return;
      }
      const name = parts[3];
      const known =
        (typeof running !== 'boolean' || router.setInterfaceRunning(name, running)) &&
        (typeof errorsPerSecond !== 'number' || router.setInterfaceErrorRate(name, errorsPerSecond));
      if (!known) {
        send(404, { error: `no interface ${name}` });
        return;
      }
    } else if (action === 'ppp/disconnect-all') {
      const after = typeof body.reconnectAfterMs === 'number' ? body.reconnectAfterMs : 5_000;
      send(200, { disconnected: router.disconnectAllPpp(after) });
      return;
    } else if (action === 'netwatch') {
      if (
        typeof body.host !== 'string' ||
        typeof body.up !== 'boolean' ||
        !router.model.setNetwatch(body.host, body.up)
      ) {
        send(400, { error: 'host (a netwatch entry) and up (boolean) are required' });
        return;
      }
    } else if (action === 'health') {
      if (typeof body.temperature === 'number') router.model.temperatureC = body.temperature;
      if (typeof body.voltage === 'number') router.model.voltageV = body.voltage;
    } else {
      send(404, { error: `unknown action ${action}` });
      return;
    }
    send(200, router.describe());
  } catch (err) {
    send(400, { error: (err as Error).message });
  }
}
