// The simulated router's IPv4 firewall: /ip/firewall/nat, /ip/firewall/filter and
// /ip/firewall/address-list, with the field names and value formats of the RouterOS manual
// ("Firewall", "NAT", "Address-lists"). Rules keep their order (add appends, `place-before` inserts);
// address lists hold static entries (an address, a prefix, a range, or a DNS name that the router
// resolves into dynamic child entries) plus one dynamic entry per PPP session whose profile names an
// `address-list`, as RouterOS adds the session's remote address while it is up.
// Trap texts follow RouterOS's `failure: …` style; they are not copied from captures.
import { formatBool, formatDate } from './formats.js';
import type { Args, Menu } from './menus.js';
import type { RouterModel, Row } from './model.js';
import { Trap } from './trap.js';

/** One rule of /ip/firewall/nat or /ip/firewall/filter: `fields` holds what was set, as RouterOS prints it. */
export interface FirewallRule {
  id: string;
  fields: Row;
  disabled: boolean;
  /** Packets and bytes the rule matched (the lab's forwarder counts them). */
  packets: number;
  bytes: number;
}

export interface AddressListEntry {
  id: string;
  list: string;
  address: string;
  comment: string;
  disabled: boolean;
  createdAt: number;
}

export interface FirewallState {
  nat: FirewallRule[];
  filter: FirewallRule[];
  addressList: AddressListEntry[];
  /** What the router's resolver answers for DNS names in address lists (the lab's stand-in for DNS). */
  dns: Map<string, string[]>;
}

/** Matchers and targets the simulator understands; the forwarder evaluates exactly these. */
export const RULE_PARAMS = [
  'chain',
  'action',
  'protocol',
  'src-address',
  'dst-address',
  'src-address-list',
  'dst-address-list',
  'src-port',
  'dst-port',
  'in-interface',
  'out-interface',
  'to-addresses',
  'to-ports',
  'jump-target',
  'log',
  'log-prefix',
  'comment',
  'disabled',
] as const;

const NAT_ACTIONS = new Set([
  'accept',
  'dst-nat',
  'src-nat',
  'masquerade',
  'redirect',
  'passthrough',
  'return',
  'jump',
  'log',
]);
const FILTER_ACTIONS = new Set([
  'accept',
  'drop',
  'reject',
  'passthrough',
  'return',
  'jump',
  'log',
  'fasttrack-connection',
]);
const NAT_CHAINS = new Set(['srcnat', 'dstnat']);
const FILTER_CHAINS = new Set(['input', 'forward', 'output']);
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udp-lite', 'sctp', 'dccp']);
const PROTOCOLS = new Set([...PORT_PROTOCOLS, 'icmp', 'gre', 'ipsec-esp', 'ipsec-ah', 'ospf', 'igmp']);

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** An IPv4 address as a number, or undefined when it is not one. */
export function ipv4ToNumber(text: string): number | undefined {
  if (!IPV4.test(text)) return undefined;
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** `10.0.0.1`, `10.0.0.0/24` or `10.0.0.1-10.0.0.9` as an inclusive range; undefined if none of these. */
export function addressRange(text: string): [number, number] | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const a = ipv4ToNumber(text.slice(0, dash));
    const b = ipv4ToNumber(text.slice(dash + 1));
    return a === undefined || b === undefined || a > b ? undefined : [a, b];
  }
  const [base = '', bits] = text.split('/');
  const ip = ipv4ToNumber(base);
  if (ip === undefined) return undefined;
  if (bits === undefined) return [ip, ip];
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const start = Math.floor(ip / size) * size;
  return [start, start + size - 1];
}

/** Ports as RouterOS writes them: `80`, `80,443`, `8000-8080`, `53,5353-5354`. */
export function portsValid(text: string): boolean {
  return text.split(',').every((part) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!m) return false;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    return a <= 65535 && b <= 65535 && a <= b;
  });
}

export function portMatches(spec: string, port: number): boolean {
  return spec.split(',').some((part) => {
    const [a = '', b] = part.split('-');
    return port >= Number(a) && port <= Number(b ?? a);
  });
}

const isTrue = (v: string | undefined): boolean => v === 'true' || v === 'yes';
/** A DNS name as an address-list entry may hold one (RouterOS resolves it). */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function checkRule(kind: 'nat' | 'filter', f: Row): void {
  const chain = f.chain ?? '';
  if (chain === '') throw new Trap('failure: chain not set', 1);
  // Built-in chains, or a user chain (a name) that a jump rule targets.
  if (!(kind === 'nat' ? NAT_CHAINS : FILTER_CHAINS).has(chain) && !/^[\w-]+$/.test(chain))
    throw new Trap('invalid value for argument chain', 1);
  const action = f.action ?? 'accept';
  if (!(kind === 'nat' ? NAT_ACTIONS : FILTER_ACTIONS).has(action))
    throw new Trap(`input does not match any value of action`, 1);
  if (f.protocol !== undefined && !PROTOCOLS.has(f.protocol) && !/^\d{1,3}$/.test(f.protocol))
    throw new Trap(`input does not match any value of protocol`, 1);
  for (const field of ['src-port', 'dst-port', 'to-ports'] as const) {
    const v = f[field];
    if (v === undefined) continue;
    if (!portsValid(v)) throw new Trap(`invalid value of ${field}, range or list expected`, 1);
    if (field !== 'to-ports' && !PORT_PROTOCOLS.has(f.protocol ?? ''))
      throw new Trap(`failure: ${field} can be set only for protocols with ports (tcp, udp, ...)`, 1);
  }
  for (const field of ['src-address', 'dst-address', 'to-addresses'] as const) {
    const v = f[field];
    if (v !== undefined && addressRange(v.replace(/^!/, '')) === undefined)
      throw new Trap(`invalid value for argument ${field}`, 1);
  }
  if (action === 'dst-nat' && f['to-addresses'] === undefined && f['to-ports'] === undefined)
    throw new Trap('failure: to-addresses or to-ports must be set for action dst-nat', 1);
  if (action === 'jump' && !f['jump-target']) throw new Trap('failure: jump-target not set', 1);
}

/** The fields an add/set gives (without `.id`, `numbers`, `place-before`), `disabled` kept apart. */
function ruleFields(args: Args, base: Row = {}): Row {
  const fields: Row = { ...base };
  for (const [k, v] of args) {
    if (k === '.id' || k === 'numbers' || k === 'place-before' || k === 'disabled') continue;
    // An empty value unsets a matcher, as `set dst-address=""` does on the console.
    if (v === '' && k !== 'comment') delete fields[k];
    else fields[k] = v;
  }
  return fields;
}

function ruleMenu(kind: 'nat' | 'filter'): Menu {
  const table = (r: RouterModel): FirewallRule[] => r.firewall[kind];
  const byId = (r: RouterModel, id: string): FirewallRule => {
    const rule = table(r).find((x) => x.id === id);
    if (!rule) throw new Trap('no such item', 0);
    return rule;
  };
  return {
    rows: (r) => table(r).map((rule) => ruleRow(rule)),
    params: [...RULE_PARAMS, 'place-before'],
    find: (r, ref) => table(r).find((x) => x.id === ref)?.id,
    add(r, args) {
      const fields = ruleFields(args);
      checkRule(kind, fields);
      const rule: FirewallRule = {
        id: r.newId(),
        fields: { action: 'accept', ...fields },
        disabled: isTrue(args.get('disabled')),
        packets: 0,
        bytes: 0,
      };
      const rules = table(r);
      const before = args.get('place-before');
      if (before === undefined || before === '') rules.push(rule);
      else {
        const at = rules.findIndex((x) => x.id === before);
        if (at < 0) throw new Trap('no such item', 0);
        rules.splice(at, 0, rule);
      }
      return rule.id;
    },
    set(r, id, args) {
      const rule = byId(r, id);
      const fields = ruleFields(args, rule.fields);
      checkRule(kind, fields);
      rule.fields = fields;
      if (args.has('disabled')) rule.disabled = isTrue(args.get('disabled'));
      if (args.has('place-before')) {
        const rules = table(r);
        rules.splice(rules.indexOf(rule), 1);
        const at = rules.findIndex((x) => x.id === args.get('place-before'));
        rules.splice(at < 0 ? rules.length : at, 0, rule);
      }
    },
    remove(r, id) {
      const rules = table(r);
      rules.splice(rules.indexOf(byId(r, id)), 1);
    },
    enable(r, id, enabled) {
      byId(r, id).disabled = !enabled;
    },
  };
}

export function ruleRow(rule: FirewallRule): Row {
  return {
    '.id': rule.id,
    ...rule.fields,
    log: rule.fields.log ?? 'false',
    'log-prefix': rule.fields['log-prefix'] ?? '',
    bytes: String(rule.bytes),
    packets: String(rule.packets),
    invalid: 'false',
    dynamic: 'false',
    disabled: formatBool(rule.disabled),
  };
}

/**
 * Every entry of every address list as RouterOS prints it: the static entries (a DNS name stays as
 * written), a dynamic child per address a DNS name resolves to, and a dynamic entry per PPP session
 * whose profile has an `address-list`. Dynamic ids are derived from their owner, as they are not stored.
 */
export function addressListRows(m: RouterModel): Row[] {
  const rows: Row[] = [];
  const created = (seconds: number): string => formatDate(new Date(seconds * 1000), m.isoDates);
  for (const e of m.firewall.addressList) {
    rows.push({
      '.id': e.id,
      list: e.list,
      address: e.address,
      'creation-time': created(e.createdAt),
      dynamic: 'false',
      disabled: formatBool(e.disabled),
      ...(e.comment ? { comment: e.comment } : {}),
    });
    if (e.disabled || ipv4ToNumber(e.address.split('/')[0] ?? '') !== undefined) continue;
    (m.firewall.dns.get(e.address.toLowerCase()) ?? []).forEach((address, i) =>
      rows.push({
        '.id': `*${(0x200000 + Number.parseInt(e.id.slice(1), 16) * 16 + i).toString(16).toUpperCase()}`,
        list: e.list,
        address,
        'creation-time': created(e.createdAt),
        dynamic: 'true',
        disabled: 'false',
        comment: e.address,
      }),
    );
  }
  for (const a of m.active) {
    const list = m.profiles.find((p) => p.name === a.profile)?.addressList;
    if (!list) continue;
    rows.push({
      '.id': `*${(0x100000 + Number.parseInt(a.id.slice(1), 16)).toString(16).toUpperCase()}`,
      list,
      address: a.address,
      'creation-time': created(a.since),
      dynamic: 'true',
      disabled: 'false',
    });
  }
  return rows;
}

const addressList: Menu = {
  rows: (r) => addressListRows(r),
  params: ['list', 'address', 'comment', 'disabled', 'timeout'],
  find: (r, ref) => addressListRows(r).find((row) => row['.id'] === ref)?.['.id'],
  add(r, args) {
    const list = args.get('list') ?? '';
    const address = args.get('address') ?? '';
    if (list === '') throw new Trap('failure: list not set', 1);
    if (address === '') throw new Trap('failure: address not set', 1);
    if (addressRange(address) === undefined && !DNS_NAME.test(address))
      throw new Trap('invalid value for argument address', 1);
    if (r.firewall.addressList.some((e) => e.list === list && e.address === address))
      throw new Trap('failure: already have such entry', 1);
    const entry: AddressListEntry = {
      id: r.newId(),
      list,
      address,
      comment: args.get('comment') ?? '',
      disabled: isTrue(args.get('disabled')),
      createdAt: r.seconds(),
    };
    r.firewall.addressList.push(entry);
    return entry.id;
  },
  set(r, id, args) {
    const e = r.firewall.addressList.find((x) => x.id === id);
    if (!e) throw new Trap('no such item', 0);
    const address = args.get('address');
    if (address !== undefined && addressRange(address) === undefined && !DNS_NAME.test(address))
      throw new Trap('invalid value for argument address', 1);
    if (address !== undefined) e.address = address;
    if (args.has('list')) e.list = args.get('list') ?? e.list;
    if (args.has('comment')) e.comment = args.get('comment') ?? '';
    if (args.has('disabled')) e.disabled = isTrue(args.get('disabled'));
  },
  remove(r, id) {
    const at = r.firewall.addressList.findIndex((x) => x.id === id);
    // Dynamic entries belong to their PPP session or DNS name; RouterOS refuses to remove them this way.
    if (at < 0)
      throw addressListRows(r).some((row) => row['.id'] === id)
        ? new Trap('failure: cannot remove dynamic entry', 1)
        : new Trap('no such item', 0);
    r.firewall.addressList.splice(at, 1);
  },
  enable(r, id, enabled) {
    const e = r.firewall.addressList.find((x) => x.id === id);
    if (!e) throw new Trap('no such item', 0);
    e.disabled = !enabled;
  },
};

export const FIREWALL_MENUS: ReadonlyArray<[string, Menu]> = [
  ['/ip/firewall/nat', ruleMenu('nat')],
  ['/ip/firewall/filter', ruleMenu('filter')],
  ['/ip/firewall/address-list', addressList],
];
