import { parseDuration, parseNumber, parseVersion } from '@ispmon/routeros';
import type { RouterOsCollector } from './types.js';
import { tableFamilies } from './types.js';

const num = parseNumber;

/** /system/resource: CPU, memory, storage, uptime. */
export const resource: RouterOsCollector = {
  name: 'resource',
  defaultEnabled: true,
  commands: () => [
    {
      path: '/system/resource',
      proplist: [
        'uptime',
        'cpu-load',
        'free-memory',
        'total-memory',
        'free-hdd-space',
        'total-hdd-space',
        'cpu-count',
        'bad-blocks',
      ],
    },
  ],
  collect: ([rows = []]) =>
    tableFamilies(rows, {}, [
      {
        field: 'uptime',
        name: 'mikrotik_system_uptime_seconds',
        help: 'Time since the router booted.',
        type: 'gauge',
        parse: parseDuration,
      },
      {
        field: 'cpu-load',
        name: 'mikrotik_system_cpu_load_ratio',
        help: 'CPU load averaged over all cores (0-1).',
        type: 'gauge',
        parse: (v) => (num(v) === undefined ? undefined : (num(v) as number) / 100),
      },
      {
        field: 'cpu-count',
        name: 'mikrotik_system_cpus',
        help: 'Number of CPU cores.',
        type: 'gauge',
        parse: num,
      },
      {
        field: 'free-memory',
        name: 'mikrotik_system_memory_free_bytes',
        help: 'Free RAM.',
        type: 'gauge',
        parse: num,
      },
      {
        field: 'total-memory',
        name: 'mikrotik_system_memory_total_bytes',
        help: 'Installed RAM.',
        type: 'gauge',
        parse: num,
      },
      {
        field: 'free-hdd-space',
        name: 'mikrotik_system_storage_free_bytes',
        help: 'Free storage.',
        type: 'gauge',
        parse: num,
      },
      {
        field: 'total-hdd-space',
        name: 'mikrotik_system_storage_total_bytes',
        help: 'Storage size.',
        type: 'gauge',
        parse: num,
      },
      {
        field: 'bad-blocks',
        name: 'mikrotik_system_storage_bad_blocks_ratio',
        help: 'Share of bad storage blocks (0-1).',
        type: 'gauge',
        parse: (v) => (num(v) === undefined ? undefined : (num(v) as number) / 100),
      },
    ]),
};

/** Identity, RouterBOARD and RouterOS version as one `_info` series. */
export const identity: RouterOsCollector = {
  name: 'identity',
  defaultEnabled: true,
  commands: () => [
    { path: '/system/identity', proplist: ['name'] },
    { path: '/system/resource', proplist: ['version', 'board-name', 'architecture-name'] },
    { path: '/system/routerboard', proplist: ['model', 'serial-number', 'current-firmware'] },
  ],
  collect: ([id = [], res = [], rb = []]) => {
    const r = res[0] ?? {};
    const b = rb[0] ?? {};
    return [
      {
        name: 'mikrotik_system_info',
        help: 'Router identity, model and RouterOS version (always 1).',
        type: 'gauge',
        samples: [
          {
            labels: {
              identity: id[0]?.name ?? '',
              version: parseVersion(r.version) ?? '',
              board: r['board-name'] ?? '',
              architecture: r['architecture-name'] ?? '',
              model: b.model ?? '',
              serial: b['serial-number'] ?? '',
              firmware: b['current-firmware'] ?? '',
            },
            value: 1,
          },
        ],
      },
    ];
  },
};
