// Menu rendering: a simulated router's state printed as RouterOS prints each menu through the API — the
// field names and value formats of the RouterOS manual pages ("Interface", "PPP AAA", "Queues", "DHCP",
// "IP Pools", "Netwatch", "Health", "Resource") and of public API captures.
import { injectedErrors, interfaceCounters, type SimInterface } from './counters.js';
import { formatBool, formatDate, formatDuration, macFor, prng } from './formats.js';
import type { PppActive, PppProfile, PppSecret, RouterModel, Row } from './model.js';

export function resourceRow(m: RouterModel): Row {
  const uptime = m.seconds() - m.startedAt / 1000;
  const cpuLoad = Math.floor(5 + 10 * Math.abs(Math.sin(m.seconds() / 60)));
  return {
    uptime: formatDuration(uptime),
    version: `${m.version} (stable)`,
    'build-time': m.isoDates ? '2024-02-29 11:43:54' : 'feb/29/2024 11:43:54',
    'factory-software': '6.44.6',
    'free-memory': String(3_500_000_000 - cpuLoad * 1_000_000),
    'total-memory': '4294967296',
    cpu: 'ARM64',
    'cpu-count': '4',
    'cpu-frequency': '1700',
    'cpu-load': String(cpuLoad),
    'free-hdd-space': '95375360',
    'total-hdd-space': '134217728',
    'write-sect-since-reboot': '4213',
    'write-sect-total': '120443',
    'bad-blocks': '0',
    'architecture-name': 'arm64',
    'board-name': m.board,
    platform: 'MikroTik',
  };
}

export function routerboardRow(m: RouterModel): Row {
  return {
    routerboard: 'true',
    'board-name': m.board,
    model: m.board,
    'serial-number': `HE${(m.startedAt % 1e8).toString(16).toUpperCase().padStart(8, '0')}`,
    'firmware-type': 'al2',
    'factory-firmware': '7.1',
    'current-firmware': m.version,
    'upgrade-firmware': m.version,
  };
}

/** RouterOS 6 prints health as one row of flat fields; RouterOS 7 as name/value/type rows. */
export function healthRows(m: RouterModel): Row[] {
  const temp = String(Math.round(m.temperatureC));
  const volt = m.voltageV.toFixed(1);
  if (!m.isV7)
    return [
      {
        voltage: volt,
        temperature: temp,
        'cpu-temperature': String(Math.round(m.temperatureC + 9)),
        'power-consumption': '27.4',
      },
    ];
  return [
    { '.id': '*D', name: 'voltage', value: volt, type: 'V' },
    { '.id': '*E', name: 'temperature', value: temp, type: 'C' },
    { '.id': '*F', name: 'cpu-temperature', value: String(Math.round(m.temperatureC + 9)), type: 'C' },
    { '.id': '*10', name: 'fan1-speed', value: '4560', type: 'RPM' },
    { '.id': '*11', name: 'psu1-state', value: 'ok', type: '' },
  ];
}

export function interfaceRow(m: RouterModel, iface: SimInterface): Row {
  const c = interfaceCounters(iface, m.seconds());
  const packets = (bytes: bigint): string => String(bytes / 800n);
  const row: Row = {
    '.id': iface.id,
    name: iface.name,
    'default-name': iface.type === 'ether' ? iface.name : '',
    type: iface.type,
    mtu: String(iface.mtu),
    'actual-mtu': String(iface.mtu),
    l2mtu: '1592',
    'max-l2mtu': '10218',
    'mac-address': macFor(prng(Number.parseInt(iface.id.slice(1), 16))),
    'last-link-up-time': formatDate(new Date(iface.upSince * 1000), m.isoDates),
    'link-downs': String(iface.linkDowns),
    'rx-byte': c.rx.toString(),
    'tx-byte': c.tx.toString(),
    'rx-packet': packets(c.rx),
    'tx-packet': packets(c.tx),
    // Background loss of a healthy port: about one drop per million packets and one error per billion
    // (well under a tenth of a packet per second on a busy uplink); scenarios add errors on top.
    'rx-drop': String(c.rx / 800_000_000n),
    'tx-drop': '0',
    'tx-queue-drop': String(c.tx / 4_000_000_000n),
    'rx-error': String(c.rx / 800_000_000_000n + BigInt(injectedErrors(iface, m.seconds()))),
    'tx-error': '0',
    'fp-rx-byte': c.rx.toString(),
    'fp-tx-byte': '0',
    'fp-rx-packet': packets(c.rx),
    'fp-tx-packet': '0',
    running: formatBool(iface.running && !iface.disabled),
    disabled: formatBool(iface.disabled),
  };
  if (iface.comment !== undefined) row.comment = iface.comment;
  if (iface.type === 'vlan') delete row['default-name'];
  return row;
}

export function ethernetRow(m: RouterModel, iface: SimInterface): Row {
  const speed = iface.speedMbps === 10000 ? '10Gbps' : '1Gbps';
  return {
    '.id': iface.id,
    name: iface.name,
    'default-name': iface.name,
    mtu: String(iface.mtu),
    'mac-address': macFor(prng(Number.parseInt(iface.id.slice(1), 16))),
    'auto-negotiation': 'true',
    ...(m.isV7 ? { speed } : { speed: iface.speedMbps === 10000 ? '10Gbps' : '1Gbps' }),
    'full-duplex': 'true',
    running: formatBool(iface.running && !iface.disabled),
    disabled: formatBool(iface.disabled),
  };
}

export function activeRow(m: RouterModel, a: PppActive): Row {
  return {
    '.id': a.id,
    name: a.name,
    service: a.service,
    'caller-id': a.callerId,
    address: a.address,
    uptime: formatDuration(m.seconds() - a.since),
    encoding: '',
    'session-id': a.sessionId,
    'limit-bytes-in': '0',
    'limit-bytes-out': '0',
    radius: 'false',
  };
}

export function secretRow(m: RouterModel, s: PppSecret): Row {
  return {
    '.id': s.id,
    name: s.name,
    service: s.service,
    'caller-id': '',
    password: s.password,
    profile: s.profile,
    routes: '',
    'limit-bytes-in': '0',
    'limit-bytes-out': '0',
    'last-logged-out': s.lastLoggedOut
      ? formatDate(new Date(s.lastLoggedOut * 1000), m.isoDates)
      : m.isoDates
        ? '1970-01-01 00:00:00'
        : 'jan/01/1970 00:00:00',
    disabled: formatBool(s.disabled),
    ...(s.comment ? { comment: s.comment } : {}),
    ...(s.localAddress ? { 'local-address': s.localAddress } : {}),
    ...(s.remoteAddress ? { 'remote-address': s.remoteAddress } : {}),
    ...s.extra,
  };
}

export function profileRow(p: PppProfile): Row {
  return {
    '.id': p.id,
    name: p.name,
    'local-address': p.localAddress,
    'remote-address': p.remoteAddress,
    'use-mpls': 'default',
    'use-compression': 'default',
    'use-encryption': p.name === 'default-encryption' ? 'yes' : 'default',
    'only-one': p.onlyOne,
    'change-tcp-mss': 'yes',
    'use-upnp': 'default',
    ...(p.rateLimit ? { 'rate-limit': p.rateLimit } : {}),
    ...(p.addressList ? { 'address-list': p.addressList } : {}),
    default: formatBool(p.isDefault),
    ...p.extra,
  };
}

/** Simple queues: the static ones plus a dynamic `<pppoe-NAME>` queue per session whose profile has a rate limit. */
export function queueRows(m: RouterModel): Row[] {
  const rows: Row[] = m.staticQueues.map((q) =>
    queueRow(
      m,
      q.id,
      q.fields.name ?? '',
      q.fields.target ?? '',
      q.fields['max-limit'] ?? '0/0',
      0,
      m.startedAt / 1000,
      false,
    ),
  );
  for (const a of m.active) {
    const profile = m.profiles.find((p) => p.name === a.profile);
    if (!profile?.rateLimit) continue;
    rows.push(
      queueRow(
        m,
        `*1${a.id.slice(1)}`,
        `<pppoe-${a.name}>`,
        `${a.address}/32`,
        profile.rateLimit,
        a.rate,
        a.since,
        true,
      ),
    );
  }
  return rows;
}

function queueRow(
  m: RouterModel,
  id: string,
  name: string,
  target: string,
  maxLimit: string,
  rate: number,
  since: number,
  dynamic: boolean,
): Row {
  const elapsed = Math.max(0, m.seconds() - since);
  const down = Math.floor(elapsed * rate);
  const up = Math.floor(elapsed * rate * 0.2);
  return {
    '.id': id,
    name,
    target,
    parent: 'none',
    'packet-marks': '',
    priority: '8/8',
    queue: 'default-small/default-small',
    'limit-at': '0/0',
    'max-limit': maxLimit,
    'burst-limit': '0/0',
    'burst-threshold': '0/0',
    'burst-time': '0s/0s',
    'bucket-size': '0.1/0.1',
    // RouterOS writes upload/download from the target's point of view: bytes=<upload>/<download>.
    bytes: `${up}/${down}`,
    'total-bytes': '0',
    packets: `${Math.floor(up / 600)}/${Math.floor(down / 1200)}`,
    'total-packets': '0',
    dropped: '0/0',
    rate: `${rate * 8 * 0.2}/${rate * 8}`,
    'packet-rate': '0/0',
    'queued-packets': '0/0',
    'queued-bytes': '0/0',
    invalid: 'false',
    dynamic: formatBool(dynamic),
    disabled: 'false',
  };
}

export function poolUsedRows(m: RouterModel): Row[] {
  return m.active.map((a) => ({ pool: 'pool-pppoe', address: a.address, owner: 'ppp', info: a.name }));
}

export function netwatchRows(m: RouterModel): Row[] {
  return m.netwatch.map((n) => ({
    '.id': n.id,
    ...n.fields,
    ...(m.isV7 ? { type: 'simple' } : {}),
    status: n.up ? 'up' : 'down',
    since: formatDate(new Date(n.since * 1000), m.isoDates),
    disabled: 'false',
  }));
}
