// The menus a simulated router answers, each a small table: which verbs it has, how its rows print,
// and how add/set/remove/enable/disable change the router. Error texts are the ones RouterOS sends in
// `!trap =message=` (librouteros docs/api_analysis; node-routeros and RouterOS forum captures).
import type { PppProfile, PppSecret, RouterModel, Row } from './model.js';

import { Trap } from './trap.js';
import { FIREWALL_MENUS } from './firewall.js';

export { Trap };

export type Args = Map<string, string>;

export interface Menu {
  rows(router: RouterModel): Row[];
  /** Parameters add/set accept (besides `.id` / `numbers`). */
  params?: readonly string[];
  add?(router: RouterModel, args: Args): string;
  set?(router: RouterModel, id: string, args: Args): void;
  remove?(router: RouterModel, id: string): void;
  enable?(router: RouterModel, id: string, enabled: boolean): void;
  /** Resolves `numbers` / `.id` (an id like `*1A` or a name) to ids. */
  find?(router: RouterModel, ref: string): string | undefined;
  listen?: boolean;
}

const secretParams = [
  'name',
  'password',
  'profile',
  'service',
  'disabled',
  'comment',
  'remote-address',
  'local-address',
  'caller-id',
  'routes',
  'limit-bytes-in',
  'limit-bytes-out',
] as const;
const profileParams = [
  'name',
  'rate-limit',
  'local-address',
  'remote-address',
  'only-one',
  'comment',
  'parent-queue',
  'address-list',
  'dns-server',
  'change-tcp-mss',
  'use-encryption',
] as const;

function isTrue(v: string | undefined): boolean {
  return v === 'true' || v === 'yes';
}

function secretById(router: RouterModel, id: string): PppSecret {
  const s = router.secrets.find((x) => x.id === id);
  if (!s) throw new Trap('no such item', 0);
  return s;
}

function profileById(router: RouterModel, id: string): PppProfile {
  const p = router.profiles.find((x) => x.id === id);
  if (!p) throw new Trap('no such item', 0);
  return p;
}

function requireProfile(router: RouterModel, name: string): void {
  if (!router.profiles.some((p) => p.name === name))
    throw new Trap(`input does not match any value of profile`, 1);
}

const pppSecret: Menu = {
  rows: (r) => r.secrets.map((s) => r.secretRow(s)),
  params: secretParams,
  listen: true,
  find: (r, ref) => r.secrets.find((s) => s.id === ref || s.name === ref)?.id,
  add(r, args) {
    const name = args.get('name');
    if (!name) throw new Trap('failure: secret must have a name', 1);
    if (r.secrets.some((s) => s.name === name))
      throw new Trap('failure: secret with the same name already exists', 1);
    const profile = args.get('profile') ?? 'default';
    requireProfile(r, profile);
    const secret: PppSecret = {
      id: r.newId(),
      name,
      password: args.get('password') ?? '',
      profile,
      service: args.get('service') ?? 'any',
      disabled: isTrue(args.get('disabled')),
      comment: args.get('comment') ?? '',
      localAddress: args.get('local-address') ?? '',
      remoteAddress: args.get('remote-address') ?? '',
      lastLoggedOut: 0,
      extra: {},
    };
    r.secrets.push(secret);
    r.emit('/ppp/secret', r.secretRow(secret));
    return secret.id;
  },
  set(r, id, args) {
    const s = secretById(r, id);
    const name = args.get('name');
    if (name !== undefined && name !== s.name && r.secrets.some((x) => x.name === name)) {
      throw new Trap('failure: secret with the same name already exists', 1);
    }
    const profile = args.get('profile');
    if (profile !== undefined) requireProfile(r, profile);
    if (name !== undefined) s.name = name;
    if (profile !== undefined) s.profile = profile;
    if (args.has('password')) s.password = args.get('password') ?? '';
    if (args.has('service')) s.service = args.get('service') ?? 'any';
    if (args.has('comment')) s.comment = args.get('comment') ?? '';
    if (args.has('local-address')) s.localAddress = args.get('local-address') ?? '';
    if (args.has('remote-address')) s.remoteAddress = args.get('remote-address') ?? '';
    if (args.has('disabled')) this.enable?.(r, id, !isTrue(args.get('disabled')));
    r.emit('/ppp/secret', r.secretRow(s));
  },
  remove(r, id) {
    const s = secretById(r, id);
    r.secrets.splice(r.secrets.indexOf(s), 1);
    r.emit('/ppp/secret', { '.id': id, '.dead': 'true' });
  },
  enable(r, id, enabled) {
    const s = secretById(r, id);
    s.disabled = !enabled;
    // A disabled secret does not end a running session on RouterOS; it only refuses the next login.
    // Enabling lets the subscriber's CPE dial in again shortly.
    if (enabled) r.scheduleReconnect(s.name, 1_000);
    r.emit('/ppp/secret', r.secretRow(s));
  },
};

const pppProfile: Menu = {
  rows: (r) => r.profiles.map((p) => r.profileRow(p)),
  params: profileParams,
  find: (r, ref) => r.profiles.find((p) => p.id === ref || p.name === ref)?.id,
  add(r, args) {
    const name = args.get('name');
    if (!name) throw new Trap('failure: profile must have a name', 1);
    if (r.profiles.some((p) => p.name === name))
      throw new Trap('failure: profile with the same name already exists', 1);
    const p: PppProfile = {
      id: r.newId(),
      name,
      rateLimit: args.get('rate-limit') ?? '',
      localAddress: args.get('local-address') ?? '',
      remoteAddress: args.get('remote-address') ?? '',
      addressList: args.get('address-list') ?? '',
      onlyOne: args.get('only-one') ?? 'default',
      isDefault: false,
      extra: args.has('comment') ? { comment: args.get('comment') ?? '' } : {},
    };
    r.profiles.push(p);
    return p.id;
  },
  set(r, id, args) {
    const p = profileById(r, id);
    if (args.has('name')) p.name = args.get('name') ?? p.name;
    if (args.has('rate-limit')) p.rateLimit = args.get('rate-limit') ?? '';
    if (args.has('local-address')) p.localAddress = args.get('local-address') ?? '';
    if (args.has('remote-address')) p.remoteAddress = args.get('remote-address') ?? '';
    if (args.has('address-list')) p.addressList = args.get('address-list') ?? '';
    if (args.has('only-one')) p.onlyOne = args.get('only-one') ?? 'default';
  },
  remove(r, id) {
    const p = profileById(r, id);
    if (p.isDefault) throw new Trap('failure: cannot remove default profile', 1);
    if (r.secrets.some((s) => s.profile === p.name)) throw new Trap('failure: profile is in use', 1);
    r.profiles.splice(r.profiles.indexOf(p), 1);
  },
};

const pppActive: Menu = {
  rows: (r) => r.active.map((a) => r.activeRow(a)),
  listen: true,
  find: (r, ref) => r.active.find((a) => a.id === ref || a.name === ref)?.id,
  remove(r, id) {
    const a = r.active.find((x) => x.id === id);
    if (!a) throw new Trap('no such item', 0);
    // The subscriber's CPE redials at once and comes back on its secret's current profile.
    r.disconnect(a.name, 1_500);
  },
};

const interfaces: Menu = {
  rows: (r) => r.interfaces.map((i) => r.interfaceRow(i)),
  params: ['disabled', 'comment', 'mtu', 'name'],
  listen: true,
  find: (r, ref) => r.interfaces.find((i) => i.id === ref || i.name === ref)?.id,
  set(r, id, args) {
    const i = r.interfaces.find((x) => x.id === id);
    if (!i) throw new Trap('no such item', 0);
    if (args.has('comment')) i.comment = args.get('comment') ?? '';
    if (args.has('mtu')) i.mtu = Number(args.get('mtu'));
    if (args.has('disabled')) this.enable?.(r, id, !isTrue(args.get('disabled')));
  },
  enable(r, id, enabled) {
    const i = r.interfaces.find((x) => x.id === id);
    if (!i) throw new Trap('no such item', 0);
    r.setInterfaceDisabled(i.name, !enabled);
  },
};

const table = (rows: (r: RouterModel) => Row[]): Menu => ({ rows });

export const MENUS: ReadonlyMap<string, Menu> = new Map<string, Menu>([
  ['/system/resource', table((r) => [r.resourceRow()])],
  [
    '/system/identity',
    {
      rows: (r) => [{ name: r.identity }],
      params: ['name'],
      set: (r, _id, args) => void (r.identity = args.get('name') ?? r.identity),
    },
  ],
  ['/system/routerboard', table((r) => [r.routerboardRow()])],
  ['/system/health', table((r) => r.healthRows())],
  ['/interface', interfaces],
  ['/interface/ethernet', table((r) => r.ethernetInterfaces().map((i) => r.ethernetRow(i)))],
  ['/ppp/active', pppActive],
  ['/ppp/secret', pppSecret],
  ['/ppp/profile', pppProfile],
  ['/queue/simple', table((r) => r.queueRows())],
  ['/ip/dhcp-server/lease', table((r) => r.leases.map((l) => ({ '.id': l.id, ...l.fields })))],
  ['/ip/pool', table((r) => r.pools.map((p) => ({ '.id': p.id, ...p.fields })))],
  ['/ip/pool/used', table((r) => r.poolUsedRows())],
  ['/tool/netwatch', table((r) => r.netwatchRows())],
  ['/ip/address', table((r) => r.addresses.map((a) => ({ '.id': a.id, ...a.fields })))],
  ...FIREWALL_MENUS,
]);

/** Menu prefixes that exist on RouterOS but that the simulator does not model (so they are not "no such command prefix"). */
export const KNOWN_PREFIXES = new Set([
  '/system',
  '/interface',
  '/ppp',
  '/queue',
  '/ip',
  '/ip/dhcp-server',
  '/ip/firewall',
  '/tool',
  '/user',
  '/log',
]);

/** Single-object menus print without `.id` and `set` needs no item. */
export const SINGLETONS = new Set(['/system/resource', '/system/identity', '/system/routerboard']);
