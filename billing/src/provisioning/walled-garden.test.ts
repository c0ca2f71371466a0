// The walled garden: the pure planner on small tables, the gateway on the RouterOS simulator (counting
// the commands the simulator received), a subscriber's web request routed through the rules billing
// wrote, and the routes, the drift report and the sync job through billing's API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  startRouterLab,
  subscriberHttpRequest,
  routePacket,
  type RouterLab,
  type SimRouter,
} from '@ispmon/lab';
import { startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import {
  createPlan,
  HOME10,
  registerRouter,
  repairRouter,
  startHarness,
  type Harness,
} from '../../test/harness.js';
import { RouterOsGateway } from './routeros-gateway.js';
import type { RouterEndpoint } from './types.js';
import {
  desiredGarden,
  gardenDrift,
  planGarden,
  walledGardenFromEnv,
  WALLED_GARDEN_TAG,
  type GardenTables,
  type WalledGardenConfig,
} from './walled-garden.js';

const CONFIG: WalledGardenConfig = {
  portalAddress: '10.0.0.80',
  portalPort: 8080,
  allowedHosts: ['app.sandbox.midtrans.com'],
  allowedList: 'ispmon-walled-garden',
};

/** The router's tables as if billing's garden were there exactly (ids *A1…). */
function inLine(): GardenTables {
  const want = desiredGarden(CONFIG);
  let id = 0xa0;
  const rule = (key: string, fields: Record<string, string>) => ({
    '.id': `*${(++id).toString(16).toUpperCase()}`,
    ...fields,
    comment: `${WALLED_GARDEN_TAG}:${key}`,
    disabled: 'false',
  });
  return {
    nat: want.nat.map((r) => rule(r.key, r.fields)),
    filter: [
      ...want.filter.map((r) => rule(r.key, r.fields)),
      { '.id': '*F0', chain: 'forward', action: 'accept', comment: 'operator', disabled: 'false' },
    ],
    addressList: want.addressList.map((e) => ({
      '.id': `*${(++id).toString(16)}`,
      ...e,
      comment: WALLED_GARDEN_TAG,
      disabled: 'false',
      dynamic: 'false',
    })),
  };
}

describe('the walled garden planner', () => {
  it('wants HTTP dst-nat to the portal, DNS and the allowed hosts accepted, then a drop, for isolir', () => {
    const want = desiredGarden(CONFIG);
    expect(want.nat).toEqual([
      {
        key: 'http-to-portal',
        fields: {
          chain: 'dstnat',
          action: 'dst-nat',
          protocol: 'tcp',
          'dst-port': '80',
          'src-address-list': 'isolir',
          'dst-address-list': '!ispmon-walled-garden',
          'to-addresses': '10.0.0.80',
          'to-ports': '8080',
        },
      },
    ]);
    expect(want.filter.map((r) => [r.key, r.fields.action])).toEqual([
      ['dns-udp', 'accept'],
      ['dns-tcp', 'accept'],
      ['allowed-hosts', 'accept'],
      ['drop', 'drop'],
    ]);
    expect(want.addressList.map((e) => e.address)).toEqual(['10.0.0.80', 'app.sandbox.midtrans.com']);
    expect(desiredGarden(undefined)).toEqual({ nat: [], filter: [], addressList: [] });
  });

  it('finds nothing to do when the router holds the garden, whatever the operator has beside it', () => {
    expect(gardenDrift(desiredGarden(CONFIG), inLine())).toEqual([]);
    expect(planGarden(desiredGarden(CONFIG), inLine())).toEqual([]);
  });

  it('reports changed, disabled, misordered, extra and missing rules and entries', () => {
    const have = inLine();
    const [udp, tcp, hosts, drop] = have.filter as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];
    have.filter = [
      udp,
      drop,
      hosts,
      { ...tcp, 'dst-port': '5353' },
      { '.id': '*F1', chain: 'forward', action: 'accept', comment: `${WALLED_GARDEN_TAG}:old` },
    ];
    have.nat = [{ ...(have.nat[0] as Record<string, string>), disabled: 'true' }];
    have.addressList = [
      {
        '.id': '*E1',
        list: 'ispmon-walled-garden',
        address: '10.0.0.80',
        comment: WALLED_GARDEN_TAG,
        disabled: 'true',
        dynamic: 'false',
      },
      {
        '.id': '*E2',
        list: 'ispmon-walled-garden',
        address: '192.0.2.9',
        comment: WALLED_GARDEN_TAG,
        disabled: 'false',
        dynamic: 'false',
      },
      // Someone's own entry for an address billing wants serves as well.
      {
        '.id': '*E3',
        list: 'ispmon-walled-garden',
        address: 'app.sandbox.midtrans.com',
        comment: 'ops',
        disabled: 'false',
        dynamic: 'false',
      },
    ];
    const drift = gardenDrift(desiredGarden(CONFIG), have);
    expect(drift.map((d) => `${d.table} ${d.kind} ${d.item}`).sort()).toEqual(
      [
        'nat changed_rule http-to-portal',
        'filter extra_rule old',
        'filter changed_rule dns-tcp',
        'filter misordered_rule dns-udp,drop,allowed-hosts,dns-tcp',
        'address-list disabled_entry ispmon-walled-garden/10.0.0.80',
        'address-list extra_entry ispmon-walled-garden/192.0.2.9',
      ].sort(),
    );
    expect(drift.find((d) => d.kind === 'changed_rule' && d.table === 'filter')).toMatchObject({
      expected: 'chain=forward action=accept protocol=tcp dst-port=53 src-address-list=isolir',
      actual: 'chain=forward action=accept protocol=tcp dst-port=5353 src-address-list=isolir',
    });
    const plan = planGarden(desiredGarden(CONFIG), have);
    expect(
      plan.map(
        (c) =>
          `${c.path} ${c.words.filter((w) => /^=(\.id|place-before|comment|disabled)=/.test(w)).join(' ')}`,
      ),
    ).toEqual([
      '/ip/firewall/address-list/set =.id=*E1 =disabled=no',
      `/ip/firewall/nat/add =comment=${WALLED_GARDEN_TAG}:http-to-portal =place-before=*A1`,
      '/ip/firewall/nat/remove =.id=*A1',
      `/ip/firewall/filter/add =comment=${WALLED_GARDEN_TAG}:dns-udp =place-before=*A2`,
      `/ip/firewall/filter/add =comment=${WALLED_GARDEN_TAG}:dns-tcp =place-before=*A2`,
      `/ip/firewall/filter/add =comment=${WALLED_GARDEN_TAG}:allowed-hosts =place-before=*A2`,
      `/ip/firewall/filter/add =comment=${WALLED_GARDEN_TAG}:drop =place-before=*A2`,
      '/ip/firewall/filter/remove =.id=*A2,*A5,*A4,*A3,*F1',
      '/ip/firewall/address-list/remove =.id=*E2',
    ]);
  });

  it('reads its settings from the environment and names the variable that is wrong', () => {
    expect(walledGardenFromEnv({})).toBeUndefined();
    expect(walledGardenFromEnv({ BILLING_PORTAL_ADDRESS: '10.0.0.80' })).toEqual({
      portalAddress: '10.0.0.80',
      portalPort: 80,
      allowedHosts: [
        'app.midtrans.com',
        'api.midtrans.com',
        'app.sandbox.midtrans.com',
        'api.sandbox.midtrans.com',
      ],
      allowedList: 'ispmon-walled-garden',
    });
    expect(
      walledGardenFromEnv({
        BILLING_PORTAL_ADDRESS: '10.0.0.80',
        BILLING_PORTAL_PORT: '8081',
        BILLING_WALLED_GARDEN_HOSTS: ' pay.example.id, 203.0.113.0/24 ',
      }),
    ).toMatchObject({ portalPort: 8081, allowedHosts: ['pay.example.id', '203.0.113.0/24'] });
    expect(() => walledGardenFromEnv({ BILLING_PORTAL_ADDRESS: 'portal.example.id' })).toThrow(
      /^BILLING_PORTAL_ADDRESS: .*IPv4/,
    );
    expect(() =>
      walledGardenFromEnv({ BILLING_PORTAL_ADDRESS: '10.0.0.80', BILLING_PORTAL_PORT: 'http' }),
    ).toThrow(/^BILLING_PORTAL_PORT: /);
    expect(() =>
      walledGardenFromEnv({ BILLING_PORTAL_ADDRESS: '10.0.0.80', BILLING_PORTAL_PORT: '70000' }),
    ).toThrow(/^BILLING_PORTAL_PORT: /);
    expect(() =>
      walledGardenFromEnv({
        BILLING_PORTAL_ADDRESS: '10.0.0.80',
        BILLING_WALLED_GARDEN_HOSTS: 'pay example',
      }),
    ).toThrow(/^BILLING_WALLED_GARDEN_HOSTS: /);
  });
});

/** A loopback HTTP server answering with its name and the Host it was asked for. */
async function namedServer(name: string): Promise<{ server: Server; host: string; port: number }> {
  const server = createServer((req, res) => res.end(`${name} host=${req.headers.host ?? ''}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

const WRITES = /\/(add|set|remove|enable|disable)$/;
const writesReceived = (nas: SimRouter): number =>
  [...nas.model.commandsReceived]
    .filter(([path]) => path.startsWith('/ip/firewall/') && WRITES.test(path))
    .reduce((n, [, c]) => n + c, 0);

describe('the walled garden on a simulated router', () => {
  let lab: RouterLab;
  let nas: SimRouter;
  let endpoint: RouterEndpoint;
  let gateway: RouterOsGateway;
  let portal: Awaited<ReturnType<typeof namedServer>>;
  let site: Awaited<ReturnType<typeof namedServer>>;
  const midtransIp = '203.0.113.7';
  const siteIp = '198.51.100.20';

  beforeAll(async () => {
    portal = await namedServer('portal');
    site = await namedServer('news');
    lab = await startRouterLab({
      routers: [{ name: 'nas-wg', version: '7.18.2', interfaces: 2, pppSessions: 3 }],
    });
    nas = lab.router('nas-wg');
    endpoint = {
      name: nas.name,
      host: nas.host,
      port: nas.port,
      username: nas.username,
      password: nas.password,
      tls: false,
      timeoutMs: 10_000, // the gateway's default: a loaded machine must not time out the in-process simulator
    };
    gateway = new RouterOsGateway({
      walledGarden: {
        portalAddress: portal.host,
        portalPort: portal.port,
        allowedHosts: ['app.sandbox.midtrans.com'],
        allowedList: 'ispmon-walled-garden',
      },
    });
    nas.model.firewall.dns.set('app.sandbox.midtrans.com', [midtransIp]);
    nas.model.firewall.dns.set('news.example', [siteIp]);
    // The operator's own rules, which billing must leave alone.
    nas.model.firewall.filter.push({
      id: '*FF01',
      fields: { chain: 'forward', action: 'accept', comment: 'operator: lan out' },
      disabled: false,
      packets: 0,
      bytes: 0,
    });
    nas.model.firewall.nat.push({
      id: '*FF02',
      fields: {
        chain: 'dstnat',
        action: 'dst-nat',
        protocol: 'tcp',
        'dst-port': '8291',
        'to-addresses': '10.0.0.2',
        comment: 'operator: winbox',
      },
      disabled: false,
      packets: 0,
      bytes: 0,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await lab?.stop();
    await new Promise((r) => portal?.server.close(r));
    await new Promise((r) => site?.server.close(r));
  });

  it("puts the garden above the operator's rules, and a second apply sends the router nothing", async () => {
    const before = writesReceived(nas);
    const first = await gateway.walledGarden(endpoint, 'apply');
    expect(first.drift.map((d) => d.kind).sort()).toEqual([
      'missing_entry',
      'missing_entry',
      'missing_rule',
      'missing_rule',
      'missing_rule',
      'missing_rule',
      'missing_rule',
    ]);
    expect(first.commandsSent).toBe(7);
    expect(writesReceived(nas) - before).toBe(7);
    expect(nas.model.firewall.filter.map((r) => r.fields.comment)).toEqual([
      `${WALLED_GARDEN_TAG}:dns-udp`,
      `${WALLED_GARDEN_TAG}:dns-tcp`,
      `${WALLED_GARDEN_TAG}:allowed-hosts`,
      `${WALLED_GARDEN_TAG}:drop`,
      'operator: lan out',
    ]);
    expect(nas.model.firewall.nat.map((r) => r.id).at(-1)).toBe('*FF02');
    const second = await gateway.walledGarden(endpoint, 'apply');
    expect(second).toMatchObject({ configured: true, drift: [], commandsSent: 0 });
    expect(writesReceived(nas) - before).toBe(7);
  });

  it('without a configured garden applies nothing and reports what billing left behind as extra', async () => {
    await gateway.walledGarden(endpoint, 'apply');
    const unconfigured = new RouterOsGateway();
    try {
      const before = writesReceived(nas);
      expect(await unconfigured.walledGarden(endpoint, 'apply')).toMatchObject({
        configured: false,
        commandsSent: 0,
      });
      expect(writesReceived(nas)).toBe(before);
      const leftovers = await unconfigured.walledGarden(endpoint, 'diff');
      expect(leftovers.drift.map((d) => d.kind).sort()).toEqual([
        'extra_entry',
        'extra_entry',
        'extra_rule',
        'extra_rule',
        'extra_rule',
        'extra_rule',
        'extra_rule',
      ]);
    } finally {
      await unconfigured.close();
    }
  });

  describe("a subscriber's web request through the rules billing wrote", () => {
    let isolated: string;
    let free: string;
    beforeAll(async () => {
      const [a, b] = nas.activeSessions();
      if (!a || !b) throw new Error('the lab router has too few sessions');
      free = b.address;
      await gateway.walledGarden(endpoint, 'apply');
      await gateway.ensureProfiles(endpoint, [
        { name: 'isolir', rateLimit: '256k/256k', addressList: 'isolir' },
      ]);
      const secret = nas.secrets().find((s) => s.name === a.name);
      await gateway.apply(
        endpoint,
        [
          {
            name: a.name,
            password: secret?.password ?? '',
            service: 'pppoe',
            profile: 'isolir',
            disabled: false,
          },
        ],
        new Set([a.name]),
      );
      isolated = await waitFor(
        'the subscriber redialled on isolir',
        async () => nas.activeSessions().find((s) => s.name === a.name && s.profile === 'isolir')?.address,
        { timeoutMs: 30_000 }, // dial-ins happen on the lab's 1 s tick; a loaded machine runs it late
      );
    });
    const internet = (): Map<string, string> => new Map([[`${siteIp}:80`, `${site.host}:${site.port}`]]);

    it('takes an isolated subscriber to the portal, asking for the site they typed', async () => {
      const r = await subscriberHttpRequest(nas.model, {
        src: isolated,
        url: 'http://news.example/berita',
        dnsServer: '8.8.8.8',
        internet: internet(),
      });
      expect(r.outcome === 'answered' && r.body).toBe('portal host=news.example');
    });

    it('lets another subscriber reach the site', async () => {
      const r = await subscriberHttpRequest(nas.model, {
        src: free,
        url: 'http://news.example/berita',
        dnsServer: '8.8.8.8',
        internet: internet(),
      });
      expect(r.outcome === 'answered' && r.body).toBe('news host=news.example');
    });

    it('lets DNS and the payment host through and drops the rest', () => {
      const verdict = (dst: string, protocol: 'tcp' | 'udp', dstPort: number) =>
        routePacket(nas.model, { src: isolated, dst, protocol, dstPort }).action;
      expect(verdict('8.8.8.8', 'udp', 53)).toBe('accept');
      expect(verdict('8.8.8.8', 'tcp', 53)).toBe('accept');
      expect(verdict(midtransIp, 'tcp', 443)).toBe('accept');
      expect(verdict(portal.host, 'tcp', portal.port)).toBe('accept');
      expect(verdict(siteIp, 'tcp', 443)).toBe('drop');
      expect(verdict(siteIp, 'udp', 443)).toBe('drop');
      expect(routePacket(nas.model, { src: free, dst: siteIp, protocol: 'tcp', dstPort: 443 }).action).toBe(
        'accept',
      );
    });
  });

  it('repairs what someone changed, touching only its own rules', async () => {
    await gateway.walledGarden(endpoint, 'apply');
    const drop = nas.model.firewall.filter.find((r) => r.fields.comment === `${WALLED_GARDEN_TAG}:drop`);
    if (!drop) throw new Error('no drop rule');
    drop.disabled = true;
    nas.model.firewall.nat.splice(0, 1);
    const diff = await gateway.walledGarden(endpoint, 'diff');
    expect(diff.drift.map((d) => `${d.table} ${d.kind} ${d.item}`).sort()).toEqual([
      'filter changed_rule drop',
      'nat missing_rule http-to-portal',
    ]);
    expect(diff.commandsSent).toBe(0);
    const fixed = await gateway.walledGarden(endpoint, 'apply');
    expect(fixed.drift).toHaveLength(2);
    expect((await gateway.walledGarden(endpoint, 'diff')).drift).toEqual([]);
    expect(nas.model.firewall.filter.map((r) => r.id).at(-1)).toBe('*FF01');
    expect(nas.model.firewall.nat.map((r) => r.id).at(-1)).toBe('*FF02');
  });

  it('removes itself and nothing else; a second removal sends nothing', async () => {
    await gateway.walledGarden(endpoint, 'apply');
    const removed = await gateway.walledGarden(endpoint, 'remove');
    expect(removed.commandsSent).toBe(3);
    expect(nas.model.firewall.filter.map((r) => r.id)).toEqual(['*FF01']);
    expect(nas.model.firewall.nat.map((r) => r.id)).toEqual(['*FF02']);
    expect(nas.model.firewall.addressList).toEqual([]);
    const before = writesReceived(nas);
    expect((await gateway.walledGarden(endpoint, 'remove')).commandsSent).toBe(0);
    expect(writesReceived(nas)).toBe(before);
  });
});

describe("the walled garden through billing's API", () => {
  let pg: PostgresServer;
  let lab: RouterLab;
  let nas: SimRouter;
  let t: Harness;
  let routerId: number;

  beforeAll(async () => {
    pg = await startPostgres();
    lab = await startRouterLab({
      routers: [{ name: 'nas-api', version: '7.18.2', interfaces: 2, pppSessions: 0 }],
    });
    nas = lab.router('nas-api');
    t = await startHarness(pg, {
      gateway: new RouterOsGateway({
        walledGarden: { ...CONFIG, allowedHosts: ['app.sandbox.midtrans.com'] },
      }),
    });
    routerId = await registerRouter(t, 'nas-api', nas);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await lab?.stop();
    await pg?.stop();
  });

  it('is provisioned by the sync job when a subscriber is isolated, and shows in the drift report', async () => {
    const planId = await createPlan(t, { ...HOME10, isolation: 'profile' });
    const customer = await t.call('POST', '/api/v1/customers', {
      code: 'C-1',
      name: 'Sari',
      email: 'sari@example.co.id',
      phone: '+62 812 0000 1111',
    });
    const sub = await t.call('POST', '/api/v1/subscriptions', {
      customer_id: customer.body.id,
      plan_id: planId,
      router_id: routerId,
      ppp_username: 'sari',
      ppp_password: 'rahasia123',
      first_invoice: false,
    });
    expect(sub.status).toBe(201);
    await t.runtime.syncNow();
    expect(nas.model.firewall.filter).toEqual([]); // nobody isolated yet: no garden
    expect(
      (await t.call('POST', `/api/v1/subscriptions/${sub.body.id}/suspend`, { reason: 'test' })).status,
    ).toBe(200);
    await t.runtime.syncNow();
    expect(nas.model.firewall.filter.map((r) => r.fields.comment)).toHaveLength(4);
    expect(nas.model.firewall.nat[0]?.fields).toMatchObject({
      'to-addresses': '10.0.0.80',
      'to-ports': '8080',
    });

    const report = await t.call(
      'GET',
      `/api/v1/routers/${routerId}/walled-garden`,
      undefined,
      t.tokens.viewer,
    );
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ router: 'nas-api', configured: true, drift: [], commandsSent: 0 });
    nas.model.firewall.filter.splice(3, 1); // someone deletes the drop rule
    const drift = await t.call('GET', `/api/v1/routers/${routerId}/drift`, undefined, t.tokens.viewer);
    const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
    expect(metrics).toContain('ispmon_billing_walled_garden_drift_items{router="nas-api"} 1');
    expect(drift.body).toMatchObject({
      drift: [],
      walledGarden: [{ table: 'filter', kind: 'missing_rule', item: 'drop' }],
    });
    const repaired = await repairRouter(t, routerId);
    expect(repaired.body.walledGarden).toHaveLength(1);
    expect((await t.call('GET', `/api/v1/routers/${routerId}/drift`)).body.walledGarden).toEqual([]);
  });

  it('applies and removes on request, for admins only', async () => {
    expect(
      (await t.call('DELETE', `/api/v1/routers/${routerId}/walled-garden`, undefined, t.tokens.viewer))
        .status,
    ).toBe(403);
    const removed = await t.call(
      'DELETE',
      `/api/v1/routers/${routerId}/walled-garden`,
      undefined,
      t.tokens.admin,
    );
    expect(removed.body).toMatchObject({ configured: true, commandsSent: 3 });
    expect([nas.model.firewall.nat, nas.model.firewall.filter, nas.model.firewall.addressList]).toEqual([
      [],
      [],
      [],
    ]);
    const applied = await t.call(
      'PUT',
      `/api/v1/routers/${routerId}/walled-garden`,
      undefined,
      t.tokens.admin,
    );
    expect(applied.body).toMatchObject({ commandsSent: 7 });
    expect(
      (await t.call('PUT', `/api/v1/routers/${routerId}/walled-garden`, undefined, t.tokens.admin)).body
        .commandsSent,
    ).toBe(0);
    expect((await t.call('GET', '/api/v1/routers/999999/walled-garden')).status).toBe(404);
  });
});
