import { parseBool, parseCounter, parseLinkSpeed } from '@ispmon/routeros';
import type { FieldMetric, RouterOsCollector } from './types.js';
import { tableFamilies } from './types.js';

const counter = (field: string, name: string, help: string): FieldMetric => ({
  field,
  name,
  help,
  type: 'counter',
  parse: parseCounter,
});

const INTERFACE_METRICS: readonly FieldMetric[] = [
  counter('rx-byte', 'mikrotik_interface_receive_bytes_total', 'Bytes received on the interface.'),
  counter('tx-byte', 'mikrotik_interface_transmit_bytes_total', 'Bytes transmitted on the interface.'),
  counter('rx-packet', 'mikrotik_interface_receive_packets_total', 'Packets received on the interface.'),
  counter('tx-packet', 'mikrotik_interface_transmit_packets_total', 'Packets transmitted on the interface.'),
  counter('rx-error', 'mikrotik_interface_receive_errors_total', 'Receive errors on the interface.'),
  counter('tx-error', 'mikrotik_interface_transmit_errors_total', 'Transmit errors on the interface.'),
  counter('rx-drop', 'mikrotik_interface_receive_drops_total', 'Received packets dropped on the interface.'),
  counter(
    'tx-drop',
    'mikrotik_interface_transmit_drops_total',
    'Packets dropped before transmission on the interface.',
  ),
  counter('link-downs', 'mikrotik_interface_link_downs_total', 'Times the interface link went down.'),
  {
    field: 'running',
    name: 'mikrotik_interface_running',
    help: 'Whether the interface is running (link up), 1 or 0.',
    type: 'gauge',
    parse: parseBool,
  },
  {
    field: 'disabled',
    name: 'mikrotik_interface_disabled',
    help: 'Whether the interface is administratively disabled, 1 or 0.',
    type: 'gauge',
    parse: parseBool,
  },
];

/** /interface counters and state, plus link speed from /interface/ethernet. */
export const interfaces: RouterOsCollector = {
  name: 'interfaces',
  defaultEnabled: true,
  commands: () => [
    { path: '/interface', proplist: ['name', 'type', 'comment', ...INTERFACE_METRICS.map((m) => m.field)] },
    { path: '/interface/ethernet', proplist: ['name', 'speed'] },
  ],
  collect: ([rows = [], ethernet = []]) => [
    ...tableFamilies(rows, { interface: 'name' }, INTERFACE_METRICS),
    {
      name: 'mikrotik_interface_info',
      help: 'Interface type and comment (always 1).',
      type: 'gauge',
      samples: rows.map((r) => ({
        labels: { interface: r.name ?? '', type: r.type ?? '', comment: r.comment ?? '' },
        value: 1,
      })),
    },
    ...tableFamilies(ethernet, { interface: 'name' }, [
      {
        field: 'speed',
        name: 'mikrotik_interface_speed_bytes',
        help: 'Configured ethernet link speed in bytes per second (as node_network_speed_bytes).',
        type: 'gauge',
        parse: (v) => {
          const bits = parseLinkSpeed(v);
          return bits === undefined ? undefined : bits / 8;
        },
      },
    ]),
  ],
};
