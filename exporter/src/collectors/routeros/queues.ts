import type { Sample } from '../../exposition.js';
import { parseCounter, parsePair, parseRate } from '@ispmon/routeros';
import type { RouterOsCollector } from './types.js';

/**
 * Simple queues. RouterOS writes pairs from the target's side: `bytes=<upload>/<download>`,
 * `max-limit=<upload>/<download>` (RouterOS manual, "Queues"). Dynamic per-subscriber queues are left to
 * the PPP collector unless the module includes them.
 */
export const queues: RouterOsCollector = {
  name: 'queues',
  defaultEnabled: true,
  // Without dynamic queues, the router drops them (one per PPP subscriber) before they cross the wire.
  commands: (o) => [
    {
      path: '/queue/simple',
      proplist: ['name', 'bytes', 'packets', 'max-limit', 'dynamic', 'disabled'],
      ...(o.dynamicQueues ? {} : { queries: ['?dynamic=false'] }),
    },
  ],
  collect: ([rows = []], o) => {
    const selected = rows.filter((r) => o.dynamicQueues || r.dynamic !== 'true');
    const pairs = (field: string, parse: (s: string) => number | bigint | undefined): Sample[] =>
      selected.flatMap((r) => {
        const p = parsePair<number | bigint>(r[field], parse);
        if (!p) return [];
        return [
          { labels: { queue: r.name ?? '', direction: 'upload' }, value: p[0] },
          { labels: { queue: r.name ?? '', direction: 'download' }, value: p[1] },
        ];
      });
    return [
      {
        name: 'mikrotik_queue_simple_bytes_total',
        help: 'Bytes through the simple queue, by direction.',
        type: 'counter',
        samples: pairs('bytes', parseCounter),
      },
      {
        name: 'mikrotik_queue_simple_packets_total',
        help: 'Packets through the simple queue, by direction.',
        type: 'counter',
        samples: pairs('packets', parseCounter),
      },
      {
        name: 'mikrotik_queue_simple_max_limit_bytes_per_second',
        help: 'Configured max-limit of the simple queue in bytes per second (0 = unlimited).',
        type: 'gauge',
        samples: pairs('max-limit', (v) => {
          const bits = parseRate(v);
          return bits === undefined ? undefined : bits / 8;
        }),
      },
      {
        name: 'mikrotik_queue_simple_disabled',
        help: 'Whether the simple queue is disabled, 1 or 0.',
        type: 'gauge',
        samples: selected.map((r) => ({
          labels: { queue: r.name ?? '' },
          value: r.disabled === 'true' ? 1 : 0,
        })),
      },
    ];
  },
};
