// The subscriber's address as the portal sees it: the TCP peer, unless that peer is a configured
// trusted proxy, in which case X-Forwarded-For is read from the right, skipping trusted hops. With no
// trusted proxies (the default) X-Forwarded-For is never read: anyone can send it.
import { BlockList, isIP } from 'node:net';

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** Entries are addresses or CIDR ranges (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`). */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const [address = '', bits] = raw.trim().split('/');
      const family = isIP(address);
      if (!family) throw new Error(`trusted proxy "${raw}": not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(address, type);
      else {
        const prefix = Number(bits);
        if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128))
          throw new Error(`trusted proxy "${raw}": prefix length must be 0-${family === 4 ? 32 : 128}`);
        this.list.addSubnet(address, prefix, type);
      }
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** `::ffff:10.0.0.5` (an IPv4 peer on a dual-stack socket) is 10.0.0.5. */
export function normaliseAddress(address: string): string {
  const v = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(v);
  return mapped?.[1] ?? v;
}

/**
 * The client's address: `peer`, or, when `peer` is a trusted proxy, the rightmost address in
 * X-Forwarded-For that is not itself a trusted proxy. Undefined when that entry is not an IP address.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string | undefined {
  if (!peer) return undefined;
  let address = normaliseAddress(peer);
  if (!trusted.size || !trusted.has(address)) return isIP(address) ? address : undefined;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  while (trusted.has(address)) {
    const next = hops.pop();
    if (next === undefined) return address; // the proxy itself asked (or sent no header)
    address = normaliseAddress(next);
    if (!isIP(address)) return undefined;
  }
  return address;
}
