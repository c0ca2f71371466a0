// The walled garden billing keeps on each router for the isolation address list (`isolir`, which the
// isolation PPP profile puts a suspended subscriber's address on): plain HTTP (tcp/80) dst-nat'ed to
// billing's portal; DNS, the portal and the payment provider's hosts allowed; everything else from
// that list dropped in the forward chain. The pure part: what the router should hold (desiredGarden),
// how it differs (gardenDrift) and the commands that fix it (planGarden). The RouterOS gateway reads
// the three tables and sends the commands (RouterOsGateway.walledGarden).
// Billing touches only what carries its comment tag; the operator's own rules stay as they are.
import type { RouterOsRow } from '@ispmon/routeros';
import { z } from 'zod';

/** Comment of every rule and address-list entry billing owns here; a rule's is `<tag>:<key>`. */
export const WALLED_GARDEN_TAG = 'ispmon:walled-garden';
/** The address list the isolation profile puts suspended subscribers on (sync.ts profilesFor). */
export const ISOLATION_ADDRESS_LIST = 'isolir';
/** Midtrans Snap (payment page and snap.js) and Core API, production and sandbox. */
export const MIDTRANS_HOSTS = [
  'app.midtrans.com',
  'api.midtrans.com',
  'app.sandbox.midtrans.com',
  'api.sandbox.midtrans.com',
] as const;

const ipv4 = z
  .string()
  .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'an IPv4 address');
const host = z
  .string()
  .regex(
    /^((25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/([12]?\d|3[0-2]))?|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i,
    'an IPv4 address, a prefix or a DNS name',
  );

export const walledGardenConfigSchema = z.strictObject({
  /** Where subscribers reach billing's portal: the address dst-nat sends their web requests to. */
  portalAddress: ipv4,
  portalPort: z.number().int().min(1).max(65535).default(80),
  /** Hosts an isolated subscriber may reach on any port besides the portal (the payment provider's). */
  allowedHosts: z.array(host).default([...MIDTRANS_HOSTS]),
  /** Address list billing fills with the portal and the allowed hosts. */
  allowedList: z
    .string()
    .regex(/^[\w.-]{1,64}$/)
    .default('ispmon-walled-garden'),
});
export type WalledGardenConfig = z.infer<typeof walledGardenConfigSchema>;

/**
 * The garden's settings from the environment, or undefined when BILLING_PORTAL_ADDRESS is not set (no
 * walled garden). Throws naming the variable that is wrong.
 */
export function walledGardenFromEnv(env: Record<string, string | undefined>): WalledGardenConfig | undefined {
  const address = env.BILLING_PORTAL_ADDRESS;
  if (!address) return undefined;
  const port = env.BILLING_PORTAL_PORT;
  const hosts = env.BILLING_WALLED_GARDEN_HOSTS;
  const parsed = walledGardenConfigSchema.safeParse({
    portalAddress: address,
    ...(port ? { portalPort: /^\d+$/.test(port) ? Number(port) : port } : {}),
    ...(hosts !== undefined
      ? {
          allowedHosts: hosts
            .split(',')
            .map((h) => h.trim())
            .filter(Boolean),
        }
      : {}),
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const variable =
    issue?.path[0] === 'portalPort'
      ? 'BILLING_PORTAL_PORT'
      : issue?.path[0] === 'allowedHosts'
        ? 'BILLING_WALLED_GARDEN_HOSTS'
        : 'BILLING_PORTAL_ADDRESS';
  throw new Error(`${variable}: ${issue?.message ?? 'invalid'}`);
}

/** One rule billing wants: its key (in the comment) and the fields RouterOS prints for it. */
export interface GardenRule {
  key: string;
  fields: Record<string, string>;
}

export interface DesiredGarden {
  /** /ip/firewall/nat rules, in order. */
  nat: GardenRule[];
  /** /ip/firewall/filter rules, in order (order decides: the drop comes last). */
  filter: GardenRule[];
  /** /ip/firewall/address-list entries of the allowed list. */
  addressList: Array<{ list: string; address: string }>;
}

/** What billing wants on a router; the empty garden when none is configured (its leftovers are extra). */
export function desiredGarden(config: WalledGardenConfig | undefined): DesiredGarden {
  if (!config) return { nat: [], filter: [], addressList: [] };
  const from = { 'src-address-list': ISOLATION_ADDRESS_LIST };
  return {
    nat: [
      {
        key: 'http-to-portal',
        fields: {
          chain: 'dstnat',
          action: 'dst-nat',
          protocol: 'tcp',
          'dst-port': '80',
          ...from,
          // Plain HTTP to the portal or a payment host goes where it was going.
          'dst-address-list': `!${config.allowedList}`,
          'to-addresses': config.portalAddress,
          'to-ports': String(config.portalPort),
        },
      },
    ],
    filter: [
      {
        key: 'dns-udp',
        fields: { chain: 'forward', action: 'accept', protocol: 'udp', 'dst-port': '53', ...from },
      },
      {
        key: 'dns-tcp',
        fields: { chain: 'forward', action: 'accept', protocol: 'tcp', 'dst-port': '53', ...from },
      },
      {
        key: 'allowed-hosts',
        fields: { chain: 'forward', action: 'accept', ...from, 'dst-address-list': config.allowedList },
      },
      { key: 'drop', fields: { chain: 'forward', action: 'drop', ...from } },
    ],
    addressList: [...new Set([config.portalAddress, ...config.allowedHosts])].map((address) => ({
      list: config.allowedList,
      address,
    })),
  };
}

/** The router's three tables as read (rules in table order). */
export interface GardenTables {
  nat: RouterOsRow[];
  filter: RouterOsRow[];
  addressList: RouterOsRow[];
}

/** Fields read from the rule tables: every one the garden sets, and the matchers someone could add. */
export const RULE_PROPLIST = [
  '.id',
  'chain',
  'action',
  'protocol',
  'src-address',
  'dst-address',
  'src-address-list',
  'dst-address-list',
  'src-port',
  'dst-port',
  'in-interface',
  'out-interface',
  'to-addresses',
  'to-ports',
  'jump-target',
  'comment',
  'disabled',
] as const;
export const ENTRY_PROPLIST = ['.id', 'list', 'address', 'comment', 'disabled', 'dynamic'] as const;

export type GardenTable = 'nat' | 'filter' | 'address-list';
export type GardenDriftKind =
  | 'missing_rule'
  | 'changed_rule'
  | 'misordered_rule'
  | 'extra_rule'
  | 'missing_entry'
  | 'disabled_entry'
  | 'extra_entry';

export interface GardenDrift {
  table: GardenTable;
  /** The rule's key (`drop`, `http-to-portal`, …) or the entry's `list/address`. */
  item: string;
  kind: GardenDriftKind;
  expected?: string;
  actual?: string;
}

export type GardenAction = 'diff' | 'apply' | 'remove';

export interface WalledGardenReport {
  /** False when billing has no garden configured (BILLING_PORTAL_ADDRESS unset): only leftovers show. */
  configured: boolean;
  /** How the router differed before this call (for 'diff': how it differs). */
  drift: GardenDrift[];
  /** Write commands sent ('apply' and 'remove'; 0 when nothing differed). */
  commandsSent: number;
  desired: DesiredGarden;
}

/** A command for the router: API path and words, with what it is about (for error messages). */
export interface GardenCommand {
  path: string;
  words: string[];
  subject: string;
}

const isTrue = (v: string | undefined): boolean => v === 'true' || v === 'yes';
const owned = (row: RouterOsRow): boolean => (row.comment ?? '').startsWith(WALLED_GARDEN_TAG);
const keyOf = (row: RouterOsRow): string => (row.comment ?? '').slice(WALLED_GARDEN_TAG.length + 1);
const NOT_COMPARED = new Set(['.id', 'comment', 'disabled']);

/** `chain=forward action=drop …`: a rule's fields as one line (for drift reports). */
function describe(fields: Record<string, string>): string {
  return Object.entries(fields)
    .filter(([k]) => !NOT_COMPARED.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function sameRule(want: GardenRule, have: RouterOsRow): boolean {
  if (isTrue(have.disabled)) return false;
  const fields = Object.keys(have).filter((k) => !NOT_COMPARED.has(k));
  return (
    fields.length === Object.keys(want.fields).length &&
    fields.every((k) => want.fields[k] === have[k]) &&
    Object.entries(want.fields).every(([k, v]) => have[k] === v)
  );
}

function ruleDrift(
  table: 'nat' | 'filter',
  want: readonly GardenRule[],
  rows: readonly RouterOsRow[],
): GardenDrift[] {
  const ours = rows.filter(owned);
  const drift: GardenDrift[] = [];
  const wanted = new Set(want.map((w) => w.key));
  const seen = new Set<string>();
  for (const row of ours) {
    const key = keyOf(row);
    // A second rule with a wanted key, or a key billing no longer wants, is extra.
    if (!wanted.has(key) || seen.has(key))
      drift.push({ table, item: key, kind: 'extra_rule', actual: describe(row) });
    seen.add(key);
  }
  for (const w of want) {
    const have = ours.find((r) => keyOf(r) === w.key);
    if (!have) drift.push({ table, item: w.key, kind: 'missing_rule', expected: describe(w.fields) });
    else if (!sameRule(w, have))
      drift.push({
        table,
        item: w.key,
        kind: 'changed_rule',
        expected: describe(w.fields),
        actual: `${describe(have)}${isTrue(have.disabled) ? ' (disabled)' : ''}`,
      });
  }
  // Rules of one chain are evaluated in order: ours must keep theirs (the drop after the accepts).
  const order = ours.map(keyOf).filter((k, i, all) => wanted.has(k) && all.indexOf(k) === i);
  const expectedOrder = want.map((w) => w.key).filter((k) => order.includes(k));
  if (order.join() !== expectedOrder.join())
    drift.push({
      table,
      item: order.join(','),
      kind: 'misordered_rule',
      expected: expectedOrder.join(','),
      actual: order.join(','),
    });
  return drift;
}

/** How the router's tables differ from the garden billing wants (only tagged items; others are not billing's). */
export function gardenDrift(want: DesiredGarden, have: GardenTables): GardenDrift[] {
  const drift = [...ruleDrift('nat', want.nat, have.nat), ...ruleDrift('filter', want.filter, have.filter)];
  const entries = have.addressList.filter((e) => !isTrue(e.dynamic));
  for (const w of want.addressList) {
    const item = `${w.list}/${w.address}`;
    const match = entries.filter((e) => e.list === w.list && e.address === w.address);
    if (match.length === 0) drift.push({ table: 'address-list', item, kind: 'missing_entry' });
    // Someone else's enabled entry for the same address serves as well as billing's own.
    else if (match.every((e) => isTrue(e.disabled)) && match.some(owned))
      drift.push({ table: 'address-list', item, kind: 'disabled_entry' });
    else if (match.every((e) => isTrue(e.disabled)))
      drift.push({ table: 'address-list', item, kind: 'missing_entry' });
  }
  const wanted = new Set(want.addressList.map((w) => `${w.list}/${w.address}`));
  for (const e of entries.filter(owned)) {
    const item = `${e.list ?? ''}/${e.address ?? ''}`;
    if (!wanted.has(item)) drift.push({ table: 'address-list', item, kind: 'extra_entry' });
  }
  return drift;
}

const PATHS = { nat: '/ip/firewall/nat', filter: '/ip/firewall/filter' } as const;

function rulesPlan(
  table: 'nat' | 'filter',
  want: readonly GardenRule[],
  rows: readonly RouterOsRow[],
): GardenCommand[] {
  if (ruleDrift(table, want, rows).length === 0) return [];
  // Any difference: the wanted rules are added at the top of the table, in order, and then the old
  // ones removed, so the router never goes without a drop rule for the list while it changes.
  const top = rows[0]?.['.id'];
  const adds = want.map((w): GardenCommand => ({
    path: `${PATHS[table]}/add`,
    subject: `${table} ${w.key}`,
    words: [
      ...Object.entries(w.fields).map(([k, v]) => `=${k}=${v}`),
      `=comment=${WALLED_GARDEN_TAG}:${w.key}`,
      ...(top ? [`=place-before=${top}`] : []),
    ],
  }));
  const old = rows.filter(owned).map((r) => r['.id'] ?? '');
  return old.length
    ? [
        ...adds,
        { path: `${PATHS[table]}/remove`, subject: `${table} old rules`, words: [`=.id=${old.join(',')}`] },
      ]
    : adds;
}

/**
 * The commands that turn `have` into `want`, to be sent one after another in this order (rule
 * positions depend on it). Nothing when nothing differs, so applying twice sends nothing the second time.
 */
export function planGarden(want: DesiredGarden, have: GardenTables): GardenCommand[] {
  const commands: GardenCommand[] = [];
  const entries = have.addressList.filter((e) => !isTrue(e.dynamic));
  // The allowed list first: the rules that name it then never point at a list short of the portal.
  for (const w of want.addressList) {
    const match = entries.filter((e) => e.list === w.list && e.address === w.address);
    const subject = `address-list ${w.list}/${w.address}`;
    if (match.length === 0)
      commands.push({
        path: '/ip/firewall/address-list/add',
        subject,
        words: [`=list=${w.list}`, `=address=${w.address}`, `=comment=${WALLED_GARDEN_TAG}`],
      });
    else if (match.every((e) => isTrue(e.disabled))) {
      const mine = match.find(owned);
      commands.push(
        mine
          ? {
              path: '/ip/firewall/address-list/set',
              subject,
              words: [`=.id=${mine['.id'] ?? ''}`, '=disabled=no'],
            }
          : {
              path: '/ip/firewall/address-list/add',
              subject,
              words: [`=list=${w.list}`, `=address=${w.address}`, `=comment=${WALLED_GARDEN_TAG}`],
            },
      );
    }
  }
  commands.push(...rulesPlan('nat', want.nat, have.nat), ...rulesPlan('filter', want.filter, have.filter));
  const wanted = new Set(want.addressList.map((w) => `${w.list}/${w.address}`));
  const extra = entries.filter((e) => owned(e) && !wanted.has(`${e.list ?? ''}/${e.address ?? ''}`));
  if (extra.length)
    commands.push({
      path: '/ip/firewall/address-list/remove',
      subject: 'address-list old entries',
      words: [`=.id=${extra.map((e) => e['.id'] ?? '').join(',')}`],
    });
  return commands;
}

/** The commands that take every rule and entry billing tagged off the router (the rules first). */
export function planGardenRemoval(have: GardenTables): GardenCommand[] {
  const ids = (rows: readonly RouterOsRow[]): string =>
    rows
      .filter((r) => owned(r) && !isTrue(r.dynamic))
      .map((r) => r['.id'] ?? '')
      .join(',');
  const commands: GardenCommand[] = [];
  const tables: Array<[string, RouterOsRow[]]> = [
    ['/ip/firewall/filter', have.filter],
    ['/ip/firewall/nat', have.nat],
    ['/ip/firewall/address-list', have.addressList],
  ];
  for (const [path, rows] of tables) {
    const list = ids(rows);
    if (list)
      commands.push({
        path: `${path}/remove`,
        subject: `${path} ${WALLED_GARDEN_TAG}`,
        words: [`=.id=${list}`],
      });
  }
  return commands;
}
