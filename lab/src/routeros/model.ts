// One simulated router's state: menus of rows with the field names and value formats RouterOS prints
// through the API. Field sets follow the RouterOS manual pages of each menu (help.mikrotik.com:
// "Interface", "PPP AAA", "Queues", "DHCP", "IP Pools", "Netwatch", "Health", "Resource") and public API
// captures (librouteros docs/api_analysis, node-routeros and mktxp fixtures). Counters are computed from
// elapsed time at print time, so an idle router costs no CPU however many there are.
import { formatBool, formatDate, formatDuration, formatRate, prng, versionAtLeast } from './formats.js';

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

interface SimInterface extends InterfaceSpec {
  id: string;
  running: boolean;
  disabled: boolean;
  linkDowns: number;
  /** Seconds (router clock) when the counters last stopped/started; counters freeze while down. */
  frozenRx: bigint;
  frozenTx: bigint;
  upSince: number;
  /** Receive errors a scenario injects (a dirty optic): per second, and those counted before the last change. */
  injectedErrorRate: number;
  injectedErrorsBefore: number;
  injectedSince: number;
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
  private readonly random: () => number;
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
  /** Sessions waiting to reconnect: name → time (ms) they come back. */
  private readonly reconnecting = new Map<string, number>();
  /** Listeners for `listen` commands: menu path → callbacks. */
  private readonly listeners = new Map<string, Set<(row: Row) => void>>();
  temperatureC = 41;
  voltageV = 24.1;

  constructor(
    spec: RouterSpec,
    private readonly now: () => number = Date.now,
  ) {
    this.name = spec.name;
    this.version = spec.version;
    this.username = spec.username;
    this.password = spec.password;
    this.identity = spec.name;
    this.board = spec.board ?? 'CCR2004-1G-12S+2XS';
    this.random = prng(spec.seed);
    // Uptime of a few days, deterministic per seed.
    this.startedAt = this.now() - Math.floor(this.random() * 20 * 86400_000) - 3600_000;
    this.build(spec);
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

  private seconds(): number {
    return this.now() / 1000;
  }

  private build(spec: RouterSpec): void {
    const r = this.random;
    for (let i = 0; i < spec.interfaces; i++) {
      const isUplink = i < 2;
      const name = i < 12 ? `sfp-sfpplus${i + 1}` : i < 14 ? `ether${i - 11}` : `vlan${100 + i}`;
      const type = i < 14 ? 'ether' : 'vlan';
      // One interface per router starts past 2^53, as long-lived 100G uplinks do.
      const rxBase = i === 0 ? 2n ** 53n + BigInt(Math.floor(r() * 1e9)) : BigInt(Math.floor(r() * 2 ** 40));
      this.interfaces.push({
        id: this.newId(),
        name,
        type,
        mtu: 1500,
        rxRate: Math.floor((isUplink ? 50e6 : 2e6) * (0.5 + r())),
        txRate: Math.floor((isUplink ? 20e6 : 1e6) * (0.5 + r())),
        rxBase,
        txBase: BigInt(Math.floor(r() * 2 ** 36)),
        speedMbps: i < 12 ? 10000 : i < 14 ? 1000 : undefined,
        comment:
          i === 2
            ? Buffer.from('Клиент Ромашка', 'utf8').toString('latin1')
            : i === 3
              ? Buffer.from([0xca, 0xeb, 0xe8, 0xe5, 0xed, 0xf2]).toString('latin1')
              : undefined,
        running: true,
        disabled: false,
        linkDowns: 0,
        frozenRx: 0n,
        frozenTx: 0n,
        upSince: this.startedAt / 1000,
        injectedErrorRate: 0,
        injectedErrorsBefore: 0,
        injectedSince: this.startedAt / 1000,
      });
    }
    const defaults: Array<[string, string]> = [
      ['default', ''],
      ['default-encryption', ''],
    ];
    for (const [name, rate] of defaults) {
      this.profiles.push({
        id: this.newId(),
        name,
        rateLimit: rate,
        localAddress: '',
        remoteAddress: '',
        addressList: '',
        onlyOne: 'default',
        isDefault: true,
        extra: {},
      });
    }
    for (const [name, rate] of [
      ['home-10M', '10M/10M'],
      ['home-20M', '20M/20M'],
      ['biz-50M', '50M/50M'],
    ] as const) {
      this.profiles.push({
        id: this.newId(),
        name,
        rateLimit: rate,
        localAddress: '10.0.0.1',
        remoteAddress: 'pool-pppoe',
        addressList: '',
        onlyOne: 'yes',
        isDefault: false,
        extra: {},
      });
    }
    this.pools.push({
      id: this.newId(),
      fields: { name: 'pool-pppoe', ranges: '10.10.0.2-10.10.3.254', 'next-pool': 'none' },
    });
    this.pools.push({
      id: this.newId(),
      fields: { name: 'dhcp-lan', ranges: '192.168.88.10-192.168.88.254', 'next-pool': 'none' },
    });
    const profileNames = ['home-10M', 'home-20M', 'biz-50M'];
    for (let i = 0; i < spec.pppSessions; i++) {
      const name = `${spec.name}-sub${String(i + 1).padStart(4, '0')}`;
      const profile = profileNames[i % 3] as string;
      this.secrets.push({
        id: this.newId(),
        name,
        password: `pw${Math.floor(r() * 1e8)}`,
        profile,
        service: 'pppoe',
        disabled: false,
        comment: '',
        localAddress: '',
        remoteAddress: '',
        lastLoggedOut: 0,
        extra: {},
      });
      this.connect(name, Math.floor(r() * 5 * 86400));
    }
    for (let i = 0; i < 5; i++) {
      this.leases.push({
        id: this.newId(),
        fields: {
          address: `192.168.88.${20 + i}`,
          'mac-address': macFor(this.random),
          'client-id': `1:${macFor(this.random).toLowerCase()}`,
          server: 'dhcp-lan',
          status: i === 4 ? 'waiting' : 'bound',
          'expires-after': formatDuration(300 + i * 60),
          'last-seen': formatDuration(30 + i),
          'host-name': `host-${i}`,
          radius: 'false',
          dynamic: 'true',
          blocked: 'false',
          disabled: 'false',
        },
      });
    }
    this.addresses.push({
      id: this.newId(),
      fields: {
        address: '192.168.88.1/24',
        network: '192.168.88.0',
        interface: 'ether1',
        'actual-interface': 'ether1',
        invalid: 'false',
        dynamic: 'false',
        disabled: 'false',
      },
    });
    this.addresses.push({
      id: this.newId(),
      fields: {
        address: '10.0.0.1/32',
        network: '10.0.0.1',
        interface: 'sfp-sfpplus1',
        'actual-interface': 'sfp-sfpplus1',
        invalid: 'false',
        dynamic: 'false',
        disabled: 'false',
      },
    });
    for (const [host, up] of [
      ['8.8.8.8', true],
      ['10.255.0.1', true],
      ['10.255.0.2', false],
    ] as const) {
      this.netwatch.push({
        id: this.newId(),
        fields: { host, timeout: '1s', interval: '1m', comment: '' },
        up,
        since: this.seconds() - 3600,
      });
    }
    this.staticQueues.push({
      id: this.newId(),
      fields: { name: 'uplink-shaper', target: '10.10.0.0/22', 'max-limit': '1G/1G' },
    });
  }

  private connect(name: string, agoSeconds = 0): void {
    const secret = this.secrets.find((s) => s.name === name);
    if (!secret || secret.disabled) return;
    if (this.active.some((a) => a.name === name)) return;
    const index = this.secrets.indexOf(secret);
    this.active.push({
      id: this.newId(),
      name,
      service: secret.service === 'any' ? 'pppoe' : secret.service,
      callerId: macFor(prng(index + 7)),
      address: `10.10.${Math.floor(index / 250)}.${(index % 250) + 2}`,
      since: this.seconds() - agoSeconds,
      sessionId: `0x81${(index + 0x100000).toString(16).toUpperCase()}`,
      profile: secret.profile,
      rate: 20_000 + (index % 17) * 10_000,
    });
    this.emit('/ppp/active', this.activeRow(this.active[this.active.length - 1] as PppActive));
  }

  /** Drops a session as the router would (the client redials later unless its secret is disabled). */
  disconnect(name: string, reconnectAfterMs = 2_000): boolean {
    const i = this.active.findIndex((a) => a.name === name);
    if (i < 0) return false;
    const [gone] = this.active.splice(i, 1);
    if (gone) this.emit('/ppp/active', { '.id': gone.id, '.dead': 'true' });
    const secret = this.secrets.find((s) => s.name === name);
    if (secret) secret.lastLoggedOut = this.seconds();
    if (reconnectAfterMs >= 0) this.reconnecting.set(name, this.now() + reconnectAfterMs);
    return true;
  }

  disconnectAll(reconnectAfterMs = 5_000): number {
    const names = this.active.map((a) => a.name);
    for (const name of names) this.disconnect(name, reconnectAfterMs);
    return names.length;
  }

  /** Advances session churn: reconnects due sessions, and with `churnPerTick` probability drops one. */
  tick(churnProbability: number): void {
    const now = this.now();
    for (const [name, at] of this.reconnecting) {
      if (at <= now) {
        this.reconnecting.delete(name);
        this.connect(name);
      }
    }
    if (churnProbability > 0 && this.active.length && this.random() < churnProbability) {
      const victim = this.active[Math.floor(this.random() * this.active.length)];
      if (victim) this.disconnect(victim.name, 1_000 + Math.floor(this.random() * 4_000));
    }
  }

  scheduleReconnect(name: string, afterMs: number): void {
    if (!this.active.some((a) => a.name === name)) this.reconnecting.set(name, this.now() + afterMs);
  }

  setInterfaceDisabled(name: string, disabled: boolean): boolean {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    this.foldInjectedErrors(iface);
    const counters = this.counters(iface);
    iface.frozenRx = counters.rx - iface.rxBase;
    iface.frozenTx = counters.tx - iface.txBase;
    iface.upSince = this.seconds();
    iface.disabled = disabled;
    this.emit('/interface', this.interfaceRow(iface));
    return true;
  }

  setInterfaceRunning(name: string, running: boolean): boolean {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    if (iface.running === running) return true;
    this.foldInjectedErrors(iface);
    const counters = this.counters(iface);
    iface.frozenRx = counters.rx - iface.rxBase;
    iface.frozenTx = counters.tx - iface.txBase;
    iface.upSince = this.seconds();
    iface.running = running;
    if (!running) iface.linkDowns += 1;
    this.emit('/interface', this.interfaceRow(iface));
    return true;
  }

  /** Receive errors per second on top of the background (0 stops injecting; counted errors stay). */
  setInterfaceErrorRate(name: string, perSecond: number): boolean {
    const iface = this.interfaces.find((i) => i.name === name);
    if (!iface) return false;
    this.foldInjectedErrors(iface);
    iface.injectedErrorRate = perSecond;
    return true;
  }

  private injectedErrors(iface: SimInterface): number {
    const active = iface.running && !iface.disabled;
    const elapsed = active ? Math.max(0, this.seconds() - iface.injectedSince) : 0;
    return iface.injectedErrorsBefore + Math.floor(elapsed * iface.injectedErrorRate);
  }

  /** Counts what was injected so far before the rate or the link state changes. */
  private foldInjectedErrors(iface: SimInterface): void {
    iface.injectedErrorsBefore = this.injectedErrors(iface);
    iface.injectedSince = this.seconds();
  }

  private counters(iface: SimInterface): { rx: bigint; tx: bigint } {
    const active = iface.running && !iface.disabled;
    const elapsed = active ? Math.max(0, this.seconds() - iface.upSince) : 0;
    return {
      rx: iface.rxBase + iface.frozenRx + BigInt(Math.floor(elapsed * iface.rxRate)),
      tx: iface.txBase + iface.frozenTx + BigInt(Math.floor(elapsed * iface.txRate)),
    };
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

  // ---- rows as printed ----------------------------------------------------------------------
  resourceRow(): Row {
    const uptime = this.seconds() - this.startedAt / 1000;
    const cpuLoad = Math.floor(5 + 10 * Math.abs(Math.sin(this.seconds() / 60)));
    return {
      uptime: formatDuration(uptime),
      version: `${this.version} (stable)`,
      'build-time': this.isoDates ? '2024-02-29 11:43:54' : 'feb/29/2024 11:43:54',
      'factory-software': '6.44.6',
      'free-memory': String(3_500_000_000 - cpuLoad * 1_000_000),
      'total-memory': '4294967296',
      cpu: 'ARM64',
      'cpu-count': '4',
      'cpu-frequency': '1700',
      'cpu-load': String(cpuLoad),
      'free-hdd-space': '95375360',
      'total-hdd-space': '134217728',
      'write-sect-since-reboot': '4213',
      'write-sect-total': '120443',
      'bad-blocks': '0',
      'architecture-name': 'arm64',
      'board-name': this.board,
      platform: 'MikroTik',
    };
  }

  routerboardRow(): Row {
    return {
      routerboard: 'true',
      'board-name': this.board,
      model: this.board,
      'serial-number': `HE${(this.startedAt % 1e8).toString(16).toUpperCase().padStart(8, '0')}`,
      'firmware-type': 'al2',
      'factory-firmware': '7.1',
      'current-firmware': this.version,
      'upgrade-firmware': this.version,
    };
  }

  /** RouterOS 6 prints health as one row of flat fields; RouterOS 7 as name/value/type rows. */
  healthRows(): Row[] {
    const temp = String(Math.round(this.temperatureC));
    const volt = this.voltageV.toFixed(1);
    if (!this.isV7)
      return [
        {
          voltage: volt,
          temperature: temp,
          'cpu-temperature': String(Math.round(this.temperatureC + 9)),
          'power-consumption': '27.4',
        },
      ];
    return [
      { '.id': '*D', name: 'voltage', value: volt, type: 'V' },
      { '.id': '*E', name: 'temperature', value: temp, type: 'C' },
      { '.id': '*F', name: 'cpu-temperature', value: String(Math.round(this.temperatureC + 9)), type: 'C' },
      { '.id': '*10', name: 'fan1-speed', value: '4560', type: 'RPM' },
      { '.id': '*11', name: 'psu1-state', value: 'ok', type: '' },
    ];
  }

  interfaceRow(iface: SimInterface): Row {
    const c = this.counters(iface);
    const packets = (bytes: bigint): string => String(bytes / 800n);
    const row: Row = {
      '.id': iface.id,
      name: iface.name,
      'default-name': iface.type === 'ether' ? iface.name : '',
      type: iface.type,
      mtu: String(iface.mtu),
      'actual-mtu': String(iface.mtu),
      l2mtu: '1592',
      'max-l2mtu': '10218',
      'mac-address': macFor(prng(Number.parseInt(iface.id.slice(1), 16))),
      'last-link-up-time': formatDate(new Date(iface.upSince * 1000), this.isoDates),
      'link-downs': String(iface.linkDowns),
      'rx-byte': c.rx.toString(),
      'tx-byte': c.tx.toString(),
      'rx-packet': packets(c.rx),
      'tx-packet': packets(c.tx),
      // Background loss of a healthy port: about one drop per million packets and one error per billion
      // (well under a tenth of a packet per second on a busy uplink); scenarios add errors on top.
      'rx-drop': String(c.rx / 800_000_000n),
      'tx-drop': '0',
      'tx-queue-drop': String(c.tx / 4_000_000_000n),
      'rx-error': String(c.rx / 800_000_000_000n + BigInt(this.injectedErrors(iface))),
      'tx-error': '0',
      'fp-rx-byte': c.rx.toString(),
      'fp-tx-byte': '0',
      'fp-rx-packet': packets(c.rx),
      'fp-tx-packet': '0',
      running: formatBool(iface.running && !iface.disabled),
      disabled: formatBool(iface.disabled),
    };
    if (iface.comment !== undefined) row.comment = iface.comment;
    if (iface.type === 'vlan') delete row['default-name'];
    return row;
  }

  ethernetRow(iface: SimInterface): Row {
    const speed = iface.speedMbps === 10000 ? '10Gbps' : '1Gbps';
    return {
      '.id': iface.id,
      name: iface.name,
      'default-name': iface.name,
      mtu: String(iface.mtu),
      'mac-address': macFor(prng(Number.parseInt(iface.id.slice(1), 16))),
      'auto-negotiation': 'true',
      ...(this.isV7 ? { speed } : { speed: iface.speedMbps === 10000 ? '10Gbps' : '1Gbps' }),
      'full-duplex': 'true',
      running: formatBool(iface.running && !iface.disabled),
      disabled: formatBool(iface.disabled),
    };
  }

  ethernetInterfaces(): SimInterface[] {
    return this.interfaces.filter((i) => i.type === 'ether');
  }

  activeRow(a: PppActive): Row {
    return {
      '.id': a.id,
      name: a.name,
      service: a.service,
      'caller-id': a.callerId,
      address: a.address,
      uptime: formatDuration(this.seconds() - a.since),
      encoding: '',
      'session-id': a.sessionId,
      'limit-bytes-in': '0',
      'limit-bytes-out': '0',
      radius: 'false',
    };
  }

  secretRow(s: PppSecret): Row {
    return {
      '.id': s.id,
      name: s.name,
      service: s.service,
      'caller-id': '',
      password: s.password,
      profile: s.profile,
      routes: '',
      'limit-bytes-in': '0',
      'limit-bytes-out': '0',
      'last-logged-out': s.lastLoggedOut
        ? formatDate(new Date(s.lastLoggedOut * 1000), this.isoDates)
        : this.isoDates
          ? '1970-01-01 00:00:00'
          : 'jan/01/1970 00:00:00',
      disabled: formatBool(s.disabled),
      ...(s.comment ? { comment: s.comment } : {}),
      ...(s.localAddress ? { 'local-address': s.localAddress } : {}),
      ...(s.remoteAddress ? { 'remote-address': s.remoteAddress } : {}),
      ...s.extra,
    };
  }

  profileRow(p: PppProfile): Row {
    return {
      '.id': p.id,
      name: p.name,
      'local-address': p.localAddress,
      'remote-address': p.remoteAddress,
      'use-mpls': 'default',
      'use-compression': 'default',
      'use-encryption': p.name === 'default-encryption' ? 'yes' : 'default',
      'only-one': p.onlyOne,
      'change-tcp-mss': 'yes',
      'use-upnp': 'default',
      ...(p.rateLimit ? { 'rate-limit': p.rateLimit } : {}),
      ...(p.addressList ? { 'address-list': p.addressList } : {}),
      default: formatBool(p.isDefault),
      ...p.extra,
    };
  }

  /** Simple queues: the static ones plus a dynamic `<pppoe-NAME>` queue per session whose profile has a rate limit. */
  queueRows(): Row[] {
    const rows: Row[] = this.staticQueues.map((q) =>
      this.queueRow(
        q.id,
        q.fields.name ?? '',
        q.fields.target ?? '',
        q.fields['max-limit'] ?? '0/0',
        0,
        this.startedAt / 1000,
        false,
      ),
    );
    for (const a of this.active) {
      const profile = this.profiles.find((p) => p.name === a.profile);
      if (!profile?.rateLimit) continue;
      rows.push(
        this.queueRow(
          `*1${a.id.slice(1)}`,
          `<pppoe-${a.name}>`,
          `${a.address}/32`,
          profile.rateLimit,
          a.rate,
          a.since,
          true,
        ),
      );
    }
    return rows;
  }

  private queueRow(
    id: string,
    name: string,
    target: string,
    maxLimit: string,
    rate: number,
    since: number,
    dynamic: boolean,
  ): Row {
    const elapsed = Math.max(0, this.seconds() - since);
    const down = Math.floor(elapsed * rate);
    const up = Math.floor(elapsed * rate * 0.2);
    return {
      '.id': id,
      name,
      target,
      parent: 'none',
      'packet-marks': '',
      priority: '8/8',
      queue: 'default-small/default-small',
      'limit-at': '0/0',
      'max-limit': maxLimit,
      'burst-limit': '0/0',
      'burst-threshold': '0/0',
      'burst-time': '0s/0s',
      'bucket-size': '0.1/0.1',
      // RouterOS writes upload/download from the target's point of view: bytes=<upload>/<download>.
      bytes: `${up}/${down}`,
      'total-bytes': '0',
      packets: `${Math.floor(up / 600)}/${Math.floor(down / 1200)}`,
      'total-packets': '0',
      dropped: '0/0',
      rate: `${rate * 8 * 0.2}/${rate * 8}`,
      'packet-rate': '0/0',
      'queued-packets': '0/0',
      'queued-bytes': '0/0',
      invalid: 'false',
      dynamic: formatBool(dynamic),
      disabled: 'false',
    };
  }

  poolUsedRows(): Row[] {
    return this.active.map((a) => ({ pool: 'pool-pppoe', address: a.address, owner: 'ppp', info: a.name }));
  }

  netwatchRows(): Row[] {
    return this.netwatch.map((n) => ({
      '.id': n.id,
      ...n.fields,
      ...(this.isV7 ? { type: 'simple' } : {}),
      status: n.up ? 'up' : 'down',
      since: formatDate(new Date(n.since * 1000), this.isoDates),
      disabled: 'false',
    }));
  }

  setNetwatch(host: string, up: boolean): boolean {
    const n = this.netwatch.find((x) => x.fields.host === host);
    if (!n) return false;
    n.up = up;
    n.since = this.seconds();
    return true;
  }

  formatRateLimit(bps: number): string {
    return formatRate(bps);
  }
}

function macFor(random: () => number): string {
  const bytes = [0x48, 0x8f, 0x5a, ...Array.from({ length: 3 }, () => Math.floor(random() * 256))];
  return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}
