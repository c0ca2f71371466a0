// The built-in SNMP modules. IF-MIB keeps snmp_exporter's metric and label names (camelCase) so
// dashboards and rules written for snmp_exporter carry over; the others follow Prometheus naming.
import type { SnmpMetricDef, SnmpModule } from './types.js';

const IF_ENTRY = '1.3.6.1.2.1.2.2.1';
const IF_X_ENTRY = '1.3.6.1.2.1.31.1.1.1';

const IF_INDEX = [{ label: 'ifIndex', type: 'integer' as const }];
const IF_LOOKUPS = [
  { label: 'ifAlias', oid: `${IF_X_ENTRY}.18` },
  { label: 'ifDescr', oid: `${IF_ENTRY}.2` },
  { label: 'ifName', oid: `${IF_X_ENTRY}.1` },
];

function ifColumn(name: string, oid: string, type: 'counter' | 'gauge', help: string): SnmpMetricDef {
  return { name, oid, type, help, indexes: IF_INDEX, lookups: IF_LOOKUPS };
}

/** IF-MIB: 64-bit HC counters where the agent has them, 32-bit counters always (the fallback for
 * agents and SNMPv1 sessions without Counter64: `ifHCInOctets or ifInOctets`). */
export const IF_MIB: SnmpModule = {
  name: 'if_mib',
  metrics: [
    ifColumn(
      'ifHCInOctets',
      `${IF_X_ENTRY}.6`,
      'counter',
      'Octets received on the interface (64-bit). IF-MIB ifHCInOctets.',
    ),
    ifColumn(
      'ifHCOutOctets',
      `${IF_X_ENTRY}.10`,
      'counter',
      'Octets sent on the interface (64-bit). IF-MIB ifHCOutOctets.',
    ),
    ifColumn(
      'ifHCInUcastPkts',
      `${IF_X_ENTRY}.7`,
      'counter',
      'Unicast packets received (64-bit). IF-MIB ifHCInUcastPkts.',
    ),
    ifColumn(
      'ifHCOutUcastPkts',
      `${IF_X_ENTRY}.11`,
      'counter',
      'Unicast packets sent (64-bit). IF-MIB ifHCOutUcastPkts.',
    ),
    ifColumn(
      'ifHCInMulticastPkts',
      `${IF_X_ENTRY}.8`,
      'counter',
      'Multicast packets received (64-bit). IF-MIB ifHCInMulticastPkts.',
    ),
    ifColumn(
      'ifHCOutMulticastPkts',
      `${IF_X_ENTRY}.12`,
      'counter',
      'Multicast packets sent (64-bit). IF-MIB ifHCOutMulticastPkts.',
    ),
    ifColumn(
      'ifHCInBroadcastPkts',
      `${IF_X_ENTRY}.9`,
      'counter',
      'Broadcast packets received (64-bit). IF-MIB ifHCInBroadcastPkts.',
    ),
    ifColumn(
      'ifHCOutBroadcastPkts',
      `${IF_X_ENTRY}.13`,
      'counter',
      'Broadcast packets sent (64-bit). IF-MIB ifHCOutBroadcastPkts.',
    ),
    ifColumn(
      'ifInOctets',
      `${IF_ENTRY}.10`,
      'counter',
      'Octets received on the interface (32-bit, wraps). IF-MIB ifInOctets.',
    ),
    ifColumn(
      'ifOutOctets',
      `${IF_ENTRY}.16`,
      'counter',
      'Octets sent on the interface (32-bit, wraps). IF-MIB ifOutOctets.',
    ),
    ifColumn('ifInErrors', `${IF_ENTRY}.14`, 'counter', 'Inbound packets with errors. IF-MIB ifInErrors.'),
    ifColumn(
      'ifOutErrors',
      `${IF_ENTRY}.20`,
      'counter',
      'Outbound packets not sent because of errors. IF-MIB ifOutErrors.',
    ),
    ifColumn(
      'ifInDiscards',
      `${IF_ENTRY}.13`,
      'counter',
      'Inbound packets discarded without error. IF-MIB ifInDiscards.',
    ),
    ifColumn(
      'ifOutDiscards',
      `${IF_ENTRY}.19`,
      'counter',
      'Outbound packets discarded without error. IF-MIB ifOutDiscards.',
    ),
    ifColumn(
      'ifOperStatus',
      `${IF_ENTRY}.8`,
      'gauge',
      'Operational status: 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 notPresent, 7 lowerLayerDown. IF-MIB ifOperStatus.',
    ),
    ifColumn(
      'ifAdminStatus',
      `${IF_ENTRY}.7`,
      'gauge',
      'Administrative status: 1 up, 2 down, 3 testing. IF-MIB ifAdminStatus.',
    ),
    ifColumn(
      'ifHighSpeed',
      `${IF_X_ENTRY}.15`,
      'gauge',
      'Interface speed in megabits per second. IF-MIB ifHighSpeed.',
    ),
    ifColumn(
      'ifSpeed',
      `${IF_ENTRY}.5`,
      'gauge',
      'Interface speed in bits per second (saturates at 2^32-1). IF-MIB ifSpeed.',
    ),
  ],
};

const SYSTEM = '1.3.6.1.2.1.1';

/** SNMPv2-MIB system group. */
export const SYSTEM_MIB: SnmpModule = {
  name: 'system',
  metrics: [
    {
      name: 'snmp_system_uptime_seconds',
      help: 'Time since the SNMP agent (re)initialised, from sysUpTime (hundredths of a second).',
      type: 'gauge',
      oid: `${SYSTEM}.3.0`,
      scale: 0.01,
    },
  ],
  infos: [
    {
      name: 'snmp_system_info',
      help: 'SNMPv2-MIB system facts: sysName, sysDescr, sysObjectID, sysLocation, sysContact. Value 1.',
      labels: [
        { label: 'sys_name', oid: `${SYSTEM}.5.0` },
        { label: 'sys_descr', oid: `${SYSTEM}.1.0` },
        { label: 'sys_object_id', oid: `${SYSTEM}.2.0` },
        { label: 'sys_location', oid: `${SYSTEM}.6.0` },
        { label: 'sys_contact', oid: `${SYSTEM}.4.0` },
      ],
    },
  ],
};

const HR_STORAGE = '1.3.6.1.2.1.25.2.3.1';
const HR_STORAGE_INDEX = [{ label: 'hr_storage_index', type: 'integer' as const }];
const HR_STORAGE_LOOKUPS = [{ label: 'hr_storage_descr', oid: `${HR_STORAGE}.3` }];

/** HOST-RESOURCES-MIB: processor load and storage in base units. */
export const HOST_RESOURCES_MIB: SnmpModule = {
  name: 'host_resources',
  metrics: [
    {
      name: 'snmp_hr_processor_load_ratio',
      help: 'Average processor load over the last minute, 0–1, from hrProcessorLoad (percent).',
      type: 'gauge',
      oid: '1.3.6.1.2.1.25.3.3.1.2',
      indexes: [{ label: 'hr_device_index', type: 'integer' }],
      scale: 0.01,
    },
    {
      name: 'snmp_hr_storage_size_bytes',
      help: 'Size of a storage area in bytes: hrStorageSize × hrStorageAllocationUnits.',
      type: 'gauge',
      oid: `${HR_STORAGE}.5`,
      indexes: HR_STORAGE_INDEX,
      lookups: HR_STORAGE_LOOKUPS,
      multiplyBy: `${HR_STORAGE}.4`,
    },
    {
      name: 'snmp_hr_storage_used_bytes',
      help: 'Used space of a storage area in bytes: hrStorageUsed × hrStorageAllocationUnits.',
      type: 'gauge',
      oid: `${HR_STORAGE}.6`,
      indexes: HR_STORAGE_INDEX,
      lookups: HR_STORAGE_LOOKUPS,
      multiplyBy: `${HR_STORAGE}.4`,
    },
  ],
};

export const BUILTIN_SNMP_MODULES: ReadonlyMap<string, SnmpModule> = new Map(
  [IF_MIB, SYSTEM_MIB, HOST_RESOURCES_MIB].map((m) => [m.name, m]),
);

/**
 * The label and metric names kept in camelCase for snmp_exporter compatibility. `promtool check metrics`
 * flags these (and only these) as style problems; a test pins the list.
 */
export const CAMEL_CASE_COMPAT_NAMES: readonly string[] = [
  ...IF_MIB.metrics.map((m) => m.name),
  'ifIndex',
  'ifAlias',
  'ifDescr',
  'ifName',
];
