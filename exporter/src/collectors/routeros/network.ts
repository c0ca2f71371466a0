import { countBy } from './types.js';
import type { RouterOsCollector } from './types.js';

/** DHCP server leases by server and status (bound, waiting, offered…). */
export const dhcp: RouterOsCollector = {
  name: 'dhcp',
  defaultEnabled: true,
  commands: () => [{ path: '/ip/dhcp-server/lease', proplist: ['server', 'status'] }],
  collect: ([rows = []]) => [
    {
      name: 'mikrotik_dhcp_leases',
      help: 'DHCP leases by server and status.',
      type: 'gauge',
      samples: countBy(rows, (r) => ({ server: r.server ?? '', status: r.status ?? '' })),
    },
  ],
};

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Addresses in an /ip/pool `ranges` value: `10.0.0.2-10.0.0.254,10.0.1.0/24,10.0.2.1`. IPv4 only. */
export function poolSize(ranges: string): number | undefined {
  let total = 0;
  for (const part of ranges
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const dash = part.split('-');
    if (dash.length === 2) {
      const a = ipv4(dash[0] as string);
      const b = ipv4(dash[1] as string);
      if (a === undefined || b === undefined || b < a) return undefined;
      total += b - a + 1;
      continue;
    }
    const slash = part.split('/');
    if (slash.length === 2) {
      const bits = Number(slash[1]);
      if (ipv4(slash[0] as string) === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32)
        return undefined;
      total += 2 ** (32 - bits);
      continue;
    }
    if (ipv4(part) === undefined) return undefined;
    total += 1;
  }
  return total;
}

/** IP pools: size from `ranges`, used from /ip/pool/used. */
export const pools: RouterOsCollector = {
  name: 'pools',
  defaultEnabled: true,
  commands: () => [
    { path: '/ip/pool', proplist: ['name', 'ranges'] },
    { path: '/ip/pool/used', proplist: ['pool'] },
  ],
  collect: ([pools = [], used]) => {
    const usedBy = new Map<string, number>();
    for (const u of used ?? []) usedBy.set(u.pool ?? '', (usedBy.get(u.pool ?? '') ?? 0) + 1);
    return [
      {
        name: 'mikrotik_ip_pool_size_addresses',
        help: 'Addresses in the IP pool.',
        type: 'gauge',
        samples: pools.flatMap((p) => {
          const size = poolSize(p.ranges ?? '');
          return size === undefined ? [] : [{ labels: { pool: p.name ?? '' }, value: size }];
        }),
      },
      {
        name: 'mikrotik_ip_pool_used_addresses',
        help: 'Addresses of the IP pool in use.',
        type: 'gauge',
        // Without /ip/pool/used the use is unknown, not 0.
        samples:
          used === undefined
            ? []
            : pools.map((p) => ({ labels: { pool: p.name ?? '' }, value: usedBy.get(p.name ?? '') ?? 0 })),
      },
    ];
  },
};

/** Netwatch: each watched host up (1) or down (0). */
export const netwatch: RouterOsCollector = {
  name: 'netwatch',
  defaultEnabled: true,
  commands: () => [{ path: '/tool/netwatch', proplist: ['host', 'status', 'comment', 'disabled'] }],
  collect: ([rows = []]) => [
    {
      name: 'mikrotik_netwatch_up',
      help: 'Whether the host watched by netwatch is up, 1 or 0.',
      type: 'gauge',
      samples: rows
        .filter((r) => r.disabled !== 'true' && (r.status === 'up' || r.status === 'down'))
        .map((r) => ({
          labels: { host: r.host ?? '', comment: r.comment ?? '' },
          value: r.status === 'up' ? 1 : 0,
        })),
    },
  ],
};
