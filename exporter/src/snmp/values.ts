// SNMP value handling, pure: varbind values as net-snmp decodes them → exact numbers, strings and OIDs.
import type { SampleValue } from '../exposition.js';

/** ASN.1 / SMI tags as net-snmp reports them in `varbind.type`. */
export const SnmpType = {
  Boolean: 1,
  Integer: 2,
  BitString: 3,
  OctetString: 4,
  Null: 5,
  OID: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const;

export interface SnmpVarbind {
  oid: string;
  type: number;
  value: unknown;
}

/**
 * A Counter64 as net-snmp returns it: the BER content octets, big-endian, of any length up to 9
 * (a leading 0x00 keeps the top bit clear). Converted exactly: a double would round above 2^53.
 */
export function counter64FromBuffer(buf: Uint8Array): bigint {
  let value = 0n;
  for (const byte of buf) value = (value << 8n) | BigInt(byte);
  return value & 0xffff_ffff_ffff_ffffn;
}

/** True for the end-of-walk / missing markers that carry no value. */
export function isExceptionType(type: number): boolean {
  return (
    type === SnmpType.NoSuchObject ||
    type === SnmpType.NoSuchInstance ||
    type === SnmpType.EndOfMibView ||
    type === SnmpType.Null
  );
}

/** A number as Prometheus will see it; Counter64 stays a bigint. Strings that spell a number count too
 * (some OLTs report optical power as "-21.35"). Returns undefined for anything else. */
export function numericValue(vb: SnmpVarbind): SampleValue | undefined {
  const { type, value } = vb;
  if (type === SnmpType.Counter64) {
    if (Buffer.isBuffer(value)) return counter64FromBuffer(value);
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number') return BigInt(value);
    return undefined;
  }
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (type === SnmpType.OctetString || type === SnmpType.Opaque) {
    const text = Buffer.isBuffer(value) ? value.toString('utf8').trim() : String(value ?? '').trim();
    if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** A DisplayString as text: UTF-8 where valid, else Latin-1; trailing NULs (common in firmware) dropped. */
export function textValue(vb: SnmpVarbind): string {
  const { value } = vb;
  if (vb.type === SnmpType.Counter64 || vb.type === SnmpType.Integer) {
    const n = numericValue(vb);
    return n === undefined ? '' : String(n);
  }
  if (Buffer.isBuffer(value)) {
    let end = value.length;
    while (end > 0 && value[end - 1] === 0) end -= 1;
    const bytes = value.subarray(0, end);
    try {
      return utf8.decode(bytes);
    } catch {
      return latin1.decode(bytes);
    }
  }
  if (value === null || value === undefined) return '';
  return String(value);
}

/** Compares dotted OIDs numerically: -1, 0, 1. */
export function compareOids(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return pa.length === pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}

/** The part of `oid` below `base` (`1.3.6.1.2.1.2.2.1.10.7` under `…10` → `7`), or undefined if outside. */
export function oidSuffix(base: string, oid: string): string | undefined {
  return oid.startsWith(`${base}.`) ? oid.slice(base.length + 1) : undefined;
}

export function normalizeOid(oid: string): string {
  return oid.replace(/^\./, '');
}
