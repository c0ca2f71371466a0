// Small generated SNMP devices for the SNMP integration tests: what the recorded walks lack (Counter64 above
// 2^53, an interface without HC counters, non-ASCII aliases, an OLT's optical table).
import { snmprec } from './snmp-agents.js';
import type { SnmpModule } from '../../src/collectors/snmp/types.js';

const IF = '1.3.6.1.2.1.2.2.1';
const IFX = '1.3.6.1.2.1.31.1.1.1';
/** An enterprise subtree for the made-up OLT (private enterprise 99999 is not assigned to a vendor we mimic). */
export const OLT_BASE = '1.3.6.1.4.1.99999.1.1';

const hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

/** A 3-port switch: port 1 with counters past 2^53 and 2^64-1, port 3 a legacy port without ifXTable HC data. */
export function generatedSwitch(): string {
  const rows: Array<[string, number | string, string]> = [
    ['1.3.6.1.2.1.1.1.0', 4, 'ispmon generated switch'],
    ['1.3.6.1.2.1.1.2.0', 6, '1.3.6.1.4.1.99999.2'],
    ['1.3.6.1.2.1.1.3.0', 67, '4294967295'],
    ['1.3.6.1.2.1.1.5.0', 4, 'gen-sw-1'],
  ];
  const ports = [
    {
      i: 1,
      descr: 'GigabitEthernet0/1',
      name: 'Gi0/1',
      alias: 'uplink Jakarta–Bandung',
      hcIn: '18446744073709551615',
      hcOut: '9007199254740993',
      in32: '4294967295',
      oper: 1,
    },
    {
      i: 2,
      descr: 'GigabitEthernet0/2',
      name: 'Gi0/2',
      alias: 'pelanggan PT Maju',
      hcIn: '9007199254740992',
      hcOut: '123456789012345678',
      in32: '0',
      oper: 2,
    },
    {
      i: 3,
      descr: 'FastEthernet0/3',
      name: 'Fa0/3',
      alias: '',
      hcIn: '',
      hcOut: '',
      in32: '3000000000',
      oper: 7,
    },
  ];
  for (const p of ports) {
    rows.push(
      [`${IF}.1.${p.i}`, 2, String(p.i)],
      [`${IF}.2.${p.i}`, 4, p.descr],
      [`${IF}.5.${p.i}`, 66, p.hcIn ? '1000000000' : '100000000'],
      [`${IF}.7.${p.i}`, 2, '1'],
      [`${IF}.8.${p.i}`, 2, String(p.oper)],
      [`${IF}.10.${p.i}`, 65, p.in32],
      [`${IF}.13.${p.i}`, 65, String(p.i * 3)],
      [`${IF}.14.${p.i}`, 65, String(p.i * 5)],
      [`${IF}.16.${p.i}`, 65, String(4000000000 - p.i)],
      [`${IF}.19.${p.i}`, 65, '0'],
      [`${IF}.20.${p.i}`, 65, String(p.i)],
      [`${IFX}.1.${p.i}`, 4, p.name],
      [`${IFX}.15.${p.i}`, 66, p.hcIn ? '1000' : '100'],
      [`${IFX}.18.${p.i}`, '4x', hex(p.alias)],
    );
    if (p.hcIn) rows.push([`${IFX}.6.${p.i}`, 70, p.hcIn], [`${IFX}.10.${p.i}`, 70, p.hcOut]);
  }
  // OLT ONU table indexed by (pon port, onu id): name, rx power in 0.01 dBm, rx power as text.
  const onus = [
    { pon: 1, onu: 1, name: 'ONU-cust-0001', rx: -2135 },
    { pon: 1, onu: 2, name: 'ONU-cust-0002', rx: -1987 },
    { pon: 2, onu: 17, name: 'ONU-cust-0117', rx: -2801 },
  ];
  for (const o of onus) {
    rows.push(
      [`${OLT_BASE}.2.${o.pon}.${o.onu}`, 4, o.name],
      [`${OLT_BASE}.4.${o.pon}.${o.onu}`, 2, String(o.rx)],
      [`${OLT_BASE}.5.${o.pon}.${o.onu}`, 4, (o.rx / 100).toFixed(2)],
    );
  }
  rows.push(['1.3.6.1.4.1.99999.1.2.0', 66, '3']);
  return snmprec(rows);
}

/** A user-declared module as a user would write it in the config (after validation). */
export const OLT_MODULE: SnmpModule = {
  name: 'olt_optics',
  metrics: [
    {
      name: 'olt_onu_rx_power_dbm',
      help: 'ONU optical receive power in dBm.',
      type: 'gauge',
      oid: `${OLT_BASE}.4`,
      indexes: [
        { label: 'pon_port', type: 'integer' },
        { label: 'onu_id', type: 'integer' },
      ],
      lookups: [{ label: 'onu_name', oid: `${OLT_BASE}.2` }],
      scale: 0.01,
    },
    {
      name: 'olt_onu_rx_power_text_dbm',
      help: 'ONU optical receive power in dBm, reported by the OLT as text.',
      type: 'gauge',
      oid: `${OLT_BASE}.5`,
      indexes: [
        { label: 'pon_port', type: 'integer' },
        { label: 'onu_id', type: 'integer' },
      ],
    },
    { name: 'olt_pon_ports_down', help: 'PON ports down.', type: 'gauge', oid: '1.3.6.1.4.1.99999.1.2.0' },
  ],
};
