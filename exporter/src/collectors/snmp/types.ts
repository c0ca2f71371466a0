// What an SNMP module is: data, in the manner of snmp_exporter's snmp.yml. Built-in modules and the
// ones users declare in the configuration have the same shape and run through the same engine.

/** How the OID suffix below a table column decodes into index labels. */
export interface SnmpIndexDef {
  label: string;
  /** `integer`: one sub-identifier; `ipv4`: four; `string`: length-prefixed octets; `oid`: the rest. */
  type: 'integer' | 'ipv4' | 'string' | 'oid';
}

/** A label taken from another column at the same index (e.g. ifName for ifIndex 7). */
export interface SnmpLookupDef {
  label: string;
  oid: string;
}

export interface SnmpMetricDef {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** A scalar instance (ending in `.0`, read with GET) or a table column (walked). */
  oid: string;
  /** For table columns: how the index decodes into labels. Default: one `index` label, the whole suffix. */
  indexes?: SnmpIndexDef[];
  lookups?: SnmpLookupDef[];
  /** Multiplies every value (e.g. 0.01 for hundredths, TimeTicks to seconds). */
  scale?: number;
  /** Multiplies each row by another column at the same index (e.g. hrStorageAllocationUnits). */
  multiplyBy?: string;
}

/** An `_info` family with value 1 whose labels are text scalars (e.g. sysName, sysDescr). */
export interface SnmpInfoDef {
  name: string;
  help: string;
  labels: Array<{ label: string; oid: string }>;
}

export interface SnmpModule {
  name: string;
  metrics: SnmpMetricDef[];
  infos?: SnmpInfoDef[];
  /** Overrides the target's max-repetitions for this module. */
  maxRepetitions?: number;
}
