// Seed data: what a simulated router holds when it starts — SFP+/copper/VLAN interfaces with rates
// and counters (one past 2^53), PPP profiles, pools, subscribers already online, DHCP leases, addresses,
// netwatch hosts and a static queue — deterministic per seed.
import { formatDuration, macFor } from './formats.js';
import type { RouterModel, RouterSpec } from './model.js';
import { connectSession } from './sessions.js';

export function seedRouter(m: RouterModel, spec: RouterSpec): void {
  const r = m.random;
  for (let i = 0; i < spec.interfaces; i++) {
    const isUplink = i < 2;
    const name = i < 12 ? `sfp-sfpplus${i + 1}` : i < 14 ? `ether${i - 11}` : `vlan${100 + i}`;
    const type = i < 14 ? 'ether' : 'vlan';
    // One interface per router starts past 2^53, as long-lived 100G uplinks do.
    const rxBase = i === 0 ? 2n ** 53n + BigInt(Math.floor(r() * 1e9)) : BigInt(Math.floor(r() * 2 ** 40));
    m.interfaces.push({
      id: m.newId(),
      name,
      type,
      mtu: 1500,
      rxRate: Math.floor((isUplink ? 50e6 : 2e6) * (0.5 + r())),
      txRate: Math.floor((isUplink ? 20e6 : 1e6) * (0.5 + r())),
      rxBase,
      txBase: BigInt(Math.floor(r() * 2 ** 36)),
      speedMbps: i < 12 ? 10000 : i < 14 ? 1000 : undefined,
      comment:
        i === 2
          ? Buffer.from('Клиент Ромашка', 'utf8').toString('latin1')
          : i === 3
            ? Buffer.from([0xca, 0xeb, 0xe8, 0xe5, 0xed, 0xf2]).toString('latin1')
            : undefined,
      running: true,
      disabled: false,
      linkDowns: 0,
      frozenRx: 0n,
      frozenTx: 0n,
      upSince: m.startedAt / 1000,
      injectedErrorRate: 0,
      injectedErrorsBefore: 0,
      injectedSince: m.startedAt / 1000,
    });
  }
  const defaults: Array<[string, string]> = [
    ['default', ''],
    ['default-encryption', ''],
  ];
  for (const [name, rate] of defaults) {
    m.profiles.push({
      id: m.newId(),
      name,
      rateLimit: rate,
      localAddress: '',
      remoteAddress: '',
      addressList: '',
      onlyOne: 'default',
      isDefault: true,
      extra: {},
    });
  }
  for (const [name, rate] of [
    ['home-10M', '10M/10M'],
    ['home-20M', '20M/20M'],
    ['biz-50M', '50M/50M'],
  ] as const) {
    m.profiles.push({
      id: m.newId(),
      name,
      rateLimit: rate,
      localAddress: '10.0.0.1',
      remoteAddress: 'pool-pppoe',
      addressList: '',
      onlyOne: 'yes',
      isDefault: false,
      extra: {},
    });
  }
  m.pools.push({
    id: m.newId(),
    fields: { name: 'pool-pppoe', ranges: '10.10.0.2-10.10.3.254', 'next-pool': 'none' },
  });
  m.pools.push({
    id: m.newId(),
    fields: { name: 'dhcp-lan', ranges: '192.168.88.10-192.168.88.254', 'next-pool': 'none' },
  });
  const profileNames = ['home-10M', 'home-20M', 'biz-50M'];
  for (let i = 0; i < spec.pppSessions; i++) {
    const name = `${spec.name}-sub${String(i + 1).padStart(4, '0')}`;
    const profile = profileNames[i % 3] as string;
    m.secrets.push({
      id: m.newId(),
      name,
      password: `pw${Math.floor(r() * 1e8)}`,
      profile,
      service: 'pppoe',
      disabled: false,
      comment: '',
      localAddress: '',
      remoteAddress: '',
      lastLoggedOut: 0,
      extra: {},
    });
    connectSession(m, name, Math.floor(r() * 5 * 86400));
  }
  for (let i = 0; i < 5; i++) {
    m.leases.push({
      id: m.newId(),
      fields: {
        address: `192.168.88.${20 + i}`,
        'mac-address': macFor(m.random),
        'client-id': `1:${macFor(m.random).toLowerCase()}`,
        server: 'dhcp-lan',
        status: i === 4 ? 'waiting' : 'bound',
        'expires-after': formatDuration(300 + i * 60),
        'last-seen': formatDuration(30 + i),
        'host-name': `host-${i}`,
        radius: 'false',
        dynamic: 'true',
        blocked: 'false',
        disabled: 'false',
      },
    });
  }
  m.addresses.push({
    id: m.newId(),
    fields: {
      address: '192.168.88.1/24',
      network: '192.168.88.0',
      interface: 'ether1',
      'actual-interface': 'ether1',
      invalid: 'false',
      dynamic: 'false',
      disabled: 'false',
    },
  });
  m.addresses.push({
    id: m.newId(),
    fields: {
      address: '10.0.0.1/32',
      network: '10.0.0.1',
      interface: 'sfp-sfpplus1',
      'actual-interface': 'sfp-sfpplus1',
      invalid: 'false',
      dynamic: 'false',
      disabled: 'false',
    },
  });
  for (const [host, up] of [
    ['8.8.8.8', true],
    ['10.255.0.1', true],
    ['10.255.0.2', false],
  ] as const) {
    m.netwatch.push({
      id: m.newId(),
      fields: { host, timeout: '1s', interval: '1m', comment: '' },
      up,
      since: m.seconds() - 3600,
    });
  }
  m.staticQueues.push({
    id: m.newId(),
    fields: { name: 'uplink-shaper', target: '10.10.0.0/22', 'max-limit': '1G/1G' },
  });
}
