// One simulated router's state: the menus' tables (interfaces, PPP secrets, sessions and profiles, pools,
// leases, netwatch, queues) and the scenarios that change them. What it starts with is in seed.ts, how
// sessions come and go in sessions.ts, how counters grow in counters.ts, and how each menu prints in
// rows.ts (the field names and value formats RouterOS sends through the API).
import { foldInjectedErrors, freezeCounters, type SimInterface } from './counters.js';
import type { FirewallState } from './firewall.js';
import { formatRate, prng, versionAtLeast } from './formats.js';
import * as rows from './rows.js';
import { seedRouter } from './seed.js';
import { disconnectAllSessions, disconnectSession, scheduleReconnect, tickSessions } from './sessions.js';

export type { SimInterface } from './counters.js';

/** A row as RouterOS sends it: field name → value (latin1 "binary" strings, so raw bytes round-trip). */
export type Row = Record<string, string>;

export interface InterfaceSpec {
  name: string;
  type: string;
  mtu: number;
  /** Receive / transmit rates in bytes per second that the counters grow by. */
  rxRate: number;
  txRate: number;
  /** Starting counter values (may exceed 2^53). */
  rxBase: bigint;
  txBase: bigint;
  speedMbps?: number;
  comment?: string;
}

export interface RouterSpec {
  name: string;
  version: string;
  username: string;
  password: string;
  seed: number;
  interfaces: number;
  pppSessions: number;
  board?: string;
}

export interface PppSecret {
  id: string;
  name: string;
  password: string;
  profile: string;
  service: string;
  disabled: boolean;
  comment: string;
  localAddress: string;
  remoteAddress: string;
  lastLoggedOut: number;
  extra: Row;
}

export interface PppActive {
  id: string;
  name: string;
  service: string;
  callerId: string;
  address: string;
  since: number;
  sessionId: string;
  profile: string;
  /** bytes per second down/up for this subscriber's dynamic queue */
  rate: number;
}

export interface PppProfile {
  id: string;
  name: string;
  rateLimit: string;
  localAddress: string;
  remoteAddress: string;
  /** Address list the subscriber's address joins while a session on this profile is up ('' = none). */
  addressList: string;
  onlyOne: string;
  isDefault: boolean;
  extra: Row;
}

/** A table row addressed by `.id`, kept generic for menus without behaviour. */
export interface GenericRow {
  id: string;
  fields: Row;
}

export class RouterModel {
  readonly name: string;
  readonly version: string;
  readonly username: string;
  password: string;
  readonly startedAt: number;
  /** The router's own random sequence (deterministic per seed): seed data and churn draw from it. */
  readonly random: () => number;
  private nextId = 0x10;
  identity: string;
  readonly board: string;
  readonly interfaces: SimInterface[] = [];
  readonly secrets: PppSecret[] = [];
  readonly active: PppActive[] = [];
  readonly profiles: PppProfile[] = [];
  readonly leases: GenericRow[] = [];
  readonly pools: GenericRow[] = [];
  readonly addresses: GenericRow[] = [];
  readonly netwatch: Array<GenericRow & { up: boolean; since: number }> = [];
  readonly staticQueues: GenericRow[] = [];
  /** /ip/firewall: NAT and filter rules in order, address lists, and the names its resolver knows (firewall.ts). */
  readonly firewall: FirewallState = { nat: [], filter: [], addressList: [], dns: new Map() };
  /** Commands received after login, by path (`/ip/firewall/nat/add` → 2): what a client really sent. */
  readonly commandsReceived = new Map<string, number>();
  /** Sessions waiting to reconnect: name → time (ms) they come back. */
  readonly reconnecting = new Map<string, number>();
  /** Listeners for `listen` commands: menu path → callbacks. */
  private readonly listeners = new Map<string, Set<(row: Row) => void>>();
  temperatureC = 41;
  voltageV = 24.1;
  /** The router's clock (ms since epoch). */
  readonly now: () => number;

  constructor(spec: RouterSpec, now: () => number = Date.now) {
    this.now = now;
    this.name = spec.name;
    this.version = spec.version;
    this.username = spec.username;
    this.password = spec.password;
    this.identity = spec.name;
    this.board = spec.board ?? 'CCR2004-1G-12S+2XS';
    this.random = prng(spec.seed);
    // Uptime of a few days, deterministic per seed.
    this.startedAt = this.now() - Math.floor(this.random() * 20 * 86400_000) - 3600_000;
    seedRouter(this, spec);
  }

  get isV7(): boolean {
    return versionAtLeast(this.version, '7.0');
  }

  /** RouterOS 7.18 and later answer an empty print with `!empty` before `!done`. */
  get sendsEmpty(): boolean {
    return versionAtLeast(this.version, '7.18');
  }

  /** Before 6.43 RouterOS used the MD5 challenge login. */
  get usesChallengeLogin(): boolean {
    return !versionAtLeast(this.version, '6.43');
  }

  /** RouterOS 7.10 changed printed dates to ISO style. */
  get isoDates(): boolean {
    return versionAtLeast(this.version, '7.10');
  }

  newId(): string {
    this.nextId += 1;
    return `*${this.nextId.toString(16).toUpperCase()}`;
  }

  /** The router's clock in seconds. */
  seconds(): number {
    return this.now() / 1000;
  }

  // ---- session life (sessions.ts) -------------------------------------------------------------
  /** Drops a session as the router would (the client redials later unless its secret is disabled). */
  disconnect(name: string, reconnectAfterMs = 2_000): boolean {
    return disconnectSession(this, name, reconnectAfterMs);
  }

  disconnectAll(reconnectAfterMs = 5_000): number {
    return disconnectAllSessions(this, reconnectAfterMs);
  }

  /** Advances session churn: reconnects due sessions, and with `churnPerTick` probability drops one. */
  tick(churnProbability: number): void {
    tickSessions(this, churnProbability);
  }

  scheduleReconnect(name: string, afterMs: number): void {
    scheduleReconnect(this, name, afterMs);
  }

  // ---- interface scenarios (counters.ts) -------------------------------------------------------
  setInterfaceDisabled(name: string, disabled: boolean): boolean {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    freezeCounters(iface, this.seconds());
    iface.disabled = disabled;
    this.emit('/interface', this.interfaceRow(iface));
    return true;
  }

  setInterfaceRunning(name: string, running: boolean): boolean {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    if (iface.running === running) return true;
    freezeCounters(iface, this.seconds());
    iface.running = running;
    if (!running) iface.linkDowns += 1;
    this.emit('/interface', this.interfaceRow(iface));
    return true;
  }

  /** Receive errors per second on top of the background (0 stops injecting; counted errors stay). */
  setInterfaceErrorRate(name: string, perSecond: number): boolean {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    foldInjectedErrors(iface, this.seconds());
    iface.injectedErrorRate = perSecond;
    return true;
  }

  setNetwatch(host: string, up: boolean): boolean {
    const n = this.netwatch.find((x) => x.fields.host === host);
    if (!n) return false;
    n.up = up;
    n.since = this.seconds();
    return true;
  }

  // ---- listeners ---------------------------------------------------------------------------
  onChange(menu: string, callback: (row: Row) => void): () => void {
    let set = this.listeners.get(menu);
    if (!set) {
      set = new Set();
      this.listeners.set(menu, set);
    }
    set.add(callback);
    return () => set.delete(callback);
  }

  emit(menu: string, row: Row): void {
    for (const cb of this.listeners.get(menu) ?? []) cb(row);
  }

  // ---- rows as printed (rows.ts) ------------------------------------------------------------
  resourceRow(): Row {
    return rows.resourceRow(this);
  }

  routerboardRow(): Row {
    return rows.routerboardRow(this);
  }

  /** RouterOS 6 prints health as one row of flat fields; RouterOS 7 as name/value/type rows. */
  healthRows(): Row[] {
    return rows.healthRows(this);
  }

  interfaceRow(iface: SimInterface): Row {
    return rows.interfaceRow(this, iface);
  }

  ethernetRow(iface: SimInterface): Row {
    return rows.ethernetRow(this, iface);
  }

  ethernetInterfaces(): SimInterface[] {
    return this.interfaces.filter((i) => i.type === 'ether');
  }

  activeRow(a: PppActive): Row {
    return rows.activeRow(this, a);
  }

  secretRow(s: PppSecret): Row {
    return rows.secretRow(this, s);
  }

  profileRow(p: PppProfile): Row {
    return rows.profileRow(p);
  }

  /** Simple queues: the static ones plus a dynamic `<pppoe-NAME>` queue per session whose profile has a rate limit. */
  queueRows(): Row[] {
    return rows.queueRows(this);
  }

  poolUsedRows(): Row[] {
    return rows.poolUsedRows(this);
  }

  netwatchRows(): Row[] {
    return rows.netwatchRows(this);
  }

  formatRateLimit(bps: number): string {
    return formatRate(bps);
  }
}
