// A subscriber's packet through the simulated router's firewall, and an HTTP request sent on to where
// the router would send it. What is modelled, in RouterOS's order for a forwarded packet: the `dstnat`
// chain of /ip/firewall/nat (first terminal rule wins: `dst-nat` rewrites the destination to the first
// of `to-addresses` / `to-ports`, `accept` ends NAT unchanged), then the `forward` chain of
// /ip/firewall/filter on the rewritten packet (`accept`, `drop`, `reject`; no terminal match accepts),
// with `jump`/`return`, `passthrough` and `log`, matching on protocol, addresses (with `!`), address
// lists (static entries, DNS-name children, PPP sessions' dynamic entries) and ports.
// What is not: connection tracking (every call is a new connection's first packet, so
// `connection-state` rules do not exist here), interfaces, mangle/raw, srcnat (it does not decide
// where a packet goes), and the router's own services (input chain). A rule that needs any of these
// makes the evaluation fail with its id, never pass silently.
import { request } from 'node:http';
import { addressListRows, addressRange, ipv4ToNumber, portMatches, type FirewallRule } from './firewall.js';
import type { RouterModel } from './model.js';

export interface Packet {
  src: string;
  dst: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  dstPort?: number;
  srcPort?: number;
  /** Counted into the matched rules' `bytes` (default 60, a SYN). */
  bytes?: number;
}

export interface Verdict {
  action: 'accept' | 'drop' | 'reject';
  /** Where the packet goes after dstnat (unchanged unless a dst-nat rule matched). */
  dst: string;
  dstPort: number | undefined;
  /** `.id` of the dst-nat rule that rewrote the destination, if one did. */
  natRule?: string;
  /** `.id` of the filter rule that decided (undefined: no rule did, the chain's default accept). */
  filterRule?: string;
}

const MAX_JUMPS = 32;
/** Fields that describe what a rule does, not what it matches. */
const NOT_MATCHERS = new Set([
  'chain',
  'action',
  'comment',
  'log',
  'log-prefix',
  'to-addresses',
  'to-ports',
  'jump-target',
]);
const MATCHERS = new Set([
  'protocol',
  'src-address',
  'dst-address',
  'src-address-list',
  'dst-address-list',
  'src-port',
  'dst-port',
]);

/** Members of each address list as inclusive numeric ranges (enabled entries only). */
function addressLists(m: RouterModel): Map<string, Array<[number, number]>> {
  const lists = new Map<string, Array<[number, number]>>();
  for (const row of addressListRows(m)) {
    if (row.disabled === 'true') continue;
    const range = addressRange(row.address ?? '');
    if (!range) continue; // a DNS name: its resolved children carry the addresses
    const list = row.list ?? '';
    lists.set(list, [...(lists.get(list) ?? []), range]);
  }
  return lists;
}

function negatable(spec: string, test: (value: string) => boolean): boolean {
  return spec.startsWith('!') ? !test(spec.slice(1)) : test(spec);
}

function inRanges(ranges: ReadonlyArray<[number, number]> | undefined, ip: number): boolean {
  return (ranges ?? []).some(([a, b]) => ip >= a && ip <= b);
}

function matches(rule: FirewallRule, p: Packet, lists: Map<string, Array<[number, number]>>): boolean {
  const f = rule.fields;
  for (const field of Object.keys(f)) {
    if (!NOT_MATCHERS.has(field) && !MATCHERS.has(field))
      throw new Error(
        `rule ${rule.id} (${f.chain}) matches on ${field}, which the lab's forwarder does not model`,
      );
  }
  const src = ipv4ToNumber(p.src) ?? -1;
  const dst = ipv4ToNumber(p.dst) ?? -1;
  const ip = (spec: string | undefined, addr: number): boolean =>
    spec === undefined ||
    negatable(spec, (s) => {
      const r = addressRange(s);
      return r !== undefined && addr >= r[0] && addr <= r[1];
    });
  const list = (spec: string | undefined, addr: number): boolean =>
    spec === undefined || negatable(spec, (name) => inRanges(lists.get(name), addr));
  const port = (spec: string | undefined, value: number | undefined): boolean =>
    spec === undefined || (value !== undefined && negatable(spec, (s) => portMatches(s, value)));
  return (
    (f.protocol === undefined || negatable(f.protocol, (s) => s === p.protocol)) &&
    ip(f['src-address'], src) &&
    ip(f['dst-address'], dst) &&
    list(f['src-address-list'], src) &&
    list(f['dst-address-list'], dst) &&
    port(f['src-port'], p.srcPort) &&
    port(f['dst-port'], p.dstPort)
  );
}

type Outcome = { rule: FirewallRule; action: string } | undefined;

/** Walks `chain` of `rules` (following jumps) to the first terminal rule; undefined when none decides. */
function walk(
  rules: readonly FirewallRule[],
  chain: string,
  p: Packet,
  lists: Map<string, Array<[number, number]>>,
  terminal: ReadonlySet<string>,
  depth = 0,
): Outcome | 'return' {
  if (depth > MAX_JUMPS) throw new Error(`firewall chain ${chain}: more than ${MAX_JUMPS} nested jumps`);
  for (const rule of rules) {
    if (rule.disabled || rule.fields.chain !== chain || !matches(rule, p, lists)) continue;
    rule.packets += 1;
    rule.bytes += p.bytes ?? 60;
    const action = rule.fields.action ?? 'accept';
    if (action === 'passthrough' || action === 'log') continue;
    if (action === 'return') return 'return';
    if (action === 'jump') {
      const inner = walk(rules, rule.fields['jump-target'] ?? '', p, lists, terminal, depth + 1);
      if (inner !== undefined && inner !== 'return') return inner;
      continue;
    }
    if (terminal.has(action)) return { rule, action };
    throw new Error(`rule ${rule.id} (${chain}): action=${action} is not modelled by the lab's forwarder`);
  }
  return undefined;
}

/** First address of `to-addresses` (a single address, a range or a prefix) and first of `to-ports`. */
function translated(rule: FirewallRule, p: Packet): { dst: string; dstPort: number | undefined } {
  const to = rule.fields['to-addresses'];
  const ports = rule.fields['to-ports'];
  const range = to === undefined ? undefined : addressRange(to);
  const dst =
    range === undefined
      ? p.dst
      : [24, 16, 8, 0].map((shift) => Math.floor(range[0] / 2 ** shift) % 256).join('.');
  const dstPort = ports === undefined ? p.dstPort : Number(ports.split(/[-,]/)[0]);
  return { dst, dstPort };
}

/** What the router does with a new connection's first packet from a subscriber (see the file's head). */
export function routePacket(m: RouterModel, p: Packet): Verdict {
  const lists = addressLists(m);
  const nat = walk(m.firewall.nat, 'dstnat', p, lists, new Set(['accept', 'dst-nat']));
  const natRule = nat !== undefined && nat !== 'return' && nat.action === 'dst-nat' ? nat.rule : undefined;
  const after = natRule ? { ...p, ...translated(natRule, p) } : p;
  const filter = walk(m.firewall.filter, 'forward', after, lists, new Set(['accept', 'drop', 'reject']));
  const decided = filter !== undefined && filter !== 'return' ? filter : undefined;
  return {
    action: (decided?.action ?? 'accept') as Verdict['action'],
    dst: after.dst,
    dstPort: after.dstPort,
    ...(natRule ? { natRule: natRule.id } : {}),
    ...(decided ? { filterRule: decided.rule.id } : {}),
  };
}

export interface SubscriberRequest {
  /** The subscriber's address (their PPP session's `address`). */
  src: string;
  /** `http://host[:port]/path`; a host name is resolved through the router's resolver table. */
  url: string;
  method?: string;
  /**
   * The lab's internet: `address:port` of a simulated destination → a loopback `host:port` that
   * answers for it. Loopback destinations (127.0.0.0/8, e.g. a portal a dst-nat rule points at) are
   * reached directly.
   */
  internet?: ReadonlyMap<string, string>;
  /** Request headers the subscriber's client sends (Host is always the URL's). */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /**
   * A header that carries the subscriber's address to the receiver (e.g. `x-forwarded-for`): the lab's
   * stand-in for the source address a real connection would carry, for addresses outside 127.0.0.0/8.
   * A real router adds no header. A loopback `src` needs none: the connection is sent from it.
   */
  sourceHeader?: string;
  /** When set, the subscriber first asks this DNS server (udp/53 through the forward chain). */
  dnsServer?: string;
  timeoutMs?: number;
}

export type SubscriberResult =
  | { outcome: 'dns-dropped'; verdict: Verdict }
  | { outcome: 'dropped' | 'rejected'; verdict: Verdict }
  | { outcome: 'unreachable'; verdict: Verdict; reason: string }
  | {
      outcome: 'answered';
      verdict: Verdict;
      /** The `host:port` the request really reached. */
      reached: string;
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: string;
      /** The body as received (images, or to pass it on unchanged). */
      bytes: Buffer;
    };

/**
 * A subscriber's HTTP request through the simulated router: resolve, route the first packet
 * (routePacket), then, when accepted, send the request for real to where it now goes, keeping the Host
 * header the browser wrote (dst-nat does not change it). A subscriber address in 127.0.0.0/8 is the
 * connection's real source address (Linux routes all of it to lo, and binding to it needs no root), so
 * the receiver sees exactly what it would behind a router; for any other address (10.x cannot be sent
 * from without root) the receiver sees loopback, and `sourceHeader` tells it the subscriber's address.
 */
export async function subscriberHttpRequest(
  m: RouterModel,
  req: SubscriberRequest,
): Promise<SubscriberResult> {
  const url = new URL(req.url);
  if (url.protocol !== 'http:')
    throw new Error(`only http:// requests are routed by the lab, not ${url.protocol}`);
  const host = url.hostname;
  let dst = host;
  if (ipv4ToNumber(host) === undefined) {
    if (req.dnsServer !== undefined) {
      const dns = routePacket(m, { src: req.src, dst: req.dnsServer, protocol: 'udp', dstPort: 53 });
      if (dns.action !== 'accept') return { outcome: 'dns-dropped', verdict: dns };
    }
    const [first] = m.firewall.dns.get(host.toLowerCase()) ?? [];
    if (first === undefined) throw new Error(`the lab's resolver does not know ${host}`);
    dst = first;
  }
  const verdict = routePacket(m, {
    src: req.src,
    dst,
    protocol: 'tcp',
    dstPort: Number(url.port || 80),
  });
  if (verdict.action === 'drop') return { outcome: 'dropped', verdict };
  if (verdict.action === 'reject') return { outcome: 'rejected', verdict };
  const target = `${verdict.dst}:${verdict.dstPort ?? 80}`;
  const reached = verdict.dst.startsWith('127.') ? target : req.internet?.get(target);
  if (reached === undefined)
    return { outcome: 'unreachable', verdict, reason: `nothing answers for ${target} in the lab` };
  const colon = reached.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: reached.slice(0, colon),
        port: Number(reached.slice(colon + 1)),
        method: req.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        headers: {
          ...req.headers,
          host: url.host,
          ...(req.sourceHeader ? { [req.sourceHeader]: req.src } : {}),
        },
        ...(req.src.startsWith('127.') ? { localAddress: req.src } : {}),
        // A new connection per request, as routePacket judges a connection's first packet.
        agent: false,
        timeout: req.timeoutMs ?? 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            outcome: 'answered',
            verdict,
            reached,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes.toString('utf8'),
            bytes,
          });
        });
        res.on('error', reject);
      },
    );
    r.on('timeout', () =>
      r.destroy(new Error(`no answer from ${reached} within ${req.timeoutMs ?? 5_000} ms`)),
    );
    r.on('error', (err) => resolve({ outcome: 'unreachable', verdict, reason: err.message }));
    r.end(req.body);
  });
}
