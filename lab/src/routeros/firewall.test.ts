// The simulator's /ip/firewall menus over the API, and a subscriber's packets and HTTP requests
// routed through the rules (forwarding.ts) to real HTTP servers on loopback.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@ispmon/local-servers';
import { routePacket, subscriberHttpRequest } from './forwarding.js';
import { startSubscriberProxy } from './subscriber-proxy.js';
import { startRouterLab, type RouterLab, type SimRouter } from './lab.js';
import { attributes, RawApiClient } from './raw-client.js';

/** A loopback HTTP server that answers every request with its own name and the Host it was asked for. */
async function namedServer(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) =>
    res.end(
      `${name} host=${req.headers.host ?? ''}${req.headers['x-subscriber'] ? ` from=${String(req.headers['x-subscriber'])}` : ''}`,
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the simulated router firewall', () => {
  let lab: RouterLab;
  let nas: SimRouter;
  let c: RawApiClient;
  let n = 0;
  const run = async (...words: string[]): Promise<Record<string, string>> => {
    const replies = await c.command(words, `t${++n}`);
    return attributes(replies[0] ?? []);
  };
  const print = async (path: string, ...query: string[]): Promise<Array<Record<string, string>>> =>
    (await c.command([`${path}/print`, ...query], `p${++n}`)).filter((s) => s[0] === '!re').map(attributes);

  beforeAll(async () => {
    lab = await startRouterLab({
      routers: [{ name: 'fw', version: '7.18.2', interfaces: 2, pppSessions: 3 }],
    });
    nas = lab.router('fw');
    c = await RawApiClient.connect(nas.port);
    await c.login('admin', 'lab-password');
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await lab?.stop();
  });

  it('prints NAT and filter rules in order, with place-before, RouterOS fields and counters', async () => {
    const first =
      (await run('/ip/firewall/filter/add', '=chain=forward', '=action=drop', '=comment=last')).ret ?? '';
    const second = (
      await run(
        '/ip/firewall/filter/add',
        '=chain=forward',
        '=protocol=udp',
        '=dst-port=53',
        `=place-before=${first}`,
      )
    ).ret;
    expect(second).toMatch(/^\*[0-9A-F]+$/);
    const rows = await print('/ip/firewall/filter');
    expect(rows.map((r) => r['.id'])).toEqual([second, first]);
    expect(rows[0]).toEqual({
      '.id': second,
      chain: 'forward',
      action: 'accept',
      protocol: 'udp',
      'dst-port': '53',
      log: 'false',
      'log-prefix': '',
      bytes: '0',
      packets: '0',
      invalid: 'false',
      dynamic: 'false',
      disabled: 'false',
    });
    await run('/ip/firewall/filter/disable', `=numbers=${first}`);
    expect((await print('/ip/firewall/filter', `?.id=${first}`))[0]?.disabled).toBe('true');
    await run('/ip/firewall/filter/remove', `=.id=${first},${second ?? ''}`);
    expect(await print('/ip/firewall/filter')).toEqual([]);
  });

  it('refuses bad rules with a trap and keeps nothing of them', async () => {
    const refusals = [
      ['/ip/firewall/nat/add', '=action=dst-nat', '=to-addresses=10.0.0.5'],
      ['/ip/firewall/nat/add', '=chain=dstnat', '=dst-port=80', '=action=dst-nat', '=to-addresses=10.0.0.5'],
      ['/ip/firewall/nat/add', '=chain=dstnat', '=protocol=tcp', '=action=dst-nat'],
      ['/ip/firewall/filter/add', '=chain=forward', '=action=dst-nat'],
      ['/ip/firewall/filter/add', '=chain=forward', '=dst-address=10.0.0.300'],
      ['/ip/firewall/filter/add', '=chain=forward', '=protocol=tcp', '=dst-port=99999'],
      ['/ip/firewall/filter/add', '=chain=forward', '=frobnicate=yes'],
      ['/ip/firewall/filter/add', '=chain=forward', '=place-before=*FFFF'],
      ['/ip/firewall/address-list/add', '=list=isolir'],
      ['/ip/firewall/address-list/add', '=list=isolir', '=address=not an address'],
    ];
    const messages: string[] = [];
    for (const words of refusals) {
      const reply = await c.command(words, `r${++n}`);
      expect(reply[0]?.[0]).toBe('!trap');
      messages.push(attributes(reply[0] ?? []).message ?? '');
    }
    expect(messages).toEqual([
      'failure: chain not set',
      'failure: dst-port can be set only for protocols with ports (tcp, udp, ...)',
      'failure: to-addresses or to-ports must be set for action dst-nat',
      'input does not match any value of action',
      'invalid value for argument dst-address',
      'invalid value of dst-port, range or list expected',
      'unknown parameter frobnicate',
      'no such item',
      'failure: address not set',
      'invalid value for argument address',
    ]);
    expect(await print('/ip/firewall/nat')).toEqual([]);
    expect(await print('/ip/firewall/filter')).toEqual([]);
    expect(await print('/ip/firewall/address-list')).toEqual([]);
  });

  it("lists a PPP session's address dynamically while its profile names an address list", async () => {
    const sub = nas.activeSessions()[0];
    if (!sub) throw new Error('the lab router has no session');
    await run('/ppp/profile/add', '=name=isolir', '=rate-limit=256k/256k', '=address-list=isolir');
    await run(
      '/ip/firewall/address-list/add',
      '=list=garden',
      '=address=app.midtrans.example',
      '=comment=pay',
    );
    nas.model.firewall.dns.set('app.midtrans.example', ['203.0.113.7', '203.0.113.8']);
    await run('/ppp/secret/set', `=numbers=${sub.name}`, '=profile=isolir');
    await run('/ppp/active/remove', `=numbers=${sub.name}`);
    await waitFor('the session redialled on isolir', async () =>
      nas.activeSessions().find((a) => a.name === sub.name && a.profile === 'isolir'),
    );
    const rows = await print('/ip/firewall/address-list', '=.proplist=.id,list,address,dynamic,comment');
    expect(rows.map(({ '.id': _id, ...r }) => r)).toEqual([
      { list: 'garden', address: 'app.midtrans.example', dynamic: 'false', comment: 'pay' },
      { list: 'garden', address: '203.0.113.7', dynamic: 'true', comment: 'app.midtrans.example' },
      { list: 'garden', address: '203.0.113.8', dynamic: 'true', comment: 'app.midtrans.example' },
      { list: 'isolir', address: sub.address, dynamic: 'true' },
    ]);
    const dynamic = rows.find((r) => r.list === 'isolir')?.['.id'] ?? '';
    const refused = await c.command(['/ip/firewall/address-list/remove', `=.id=${dynamic}`], 'rd');
    expect(attributes(refused[0] ?? []).message).toBe('failure: cannot remove dynamic entry');
    // Back on a profile without a list, the dynamic entry goes with the old session.
    await run('/ppp/secret/set', `=numbers=${sub.name}`, '=profile=home-10M');
    await run('/ppp/active/remove', `=numbers=${sub.name}`);
    await waitFor('the session redialled on home-10M', async () =>
      nas.activeSessions().find((a) => a.name === sub.name && a.profile === 'home-10M'),
    );
    expect((await print('/ip/firewall/address-list', '?list=isolir')).length).toBe(0);
  });

  describe('routing a subscriber through the rules', () => {
    let portal: { server: Server; address: string };
    let site: { server: Server; address: string };
    const isolated = '10.10.0.2';
    const free = '10.10.0.3';

    beforeAll(async () => {
      portal = await namedServer('portal');
      site = await namedServer('site');
      const [portalIp, portalPort] = portal.address.split(':');
      await run('/ip/firewall/address-list/add', '=list=lab-isolated', `=address=${isolated}`);
      await run(
        '/ip/firewall/nat/add',
        '=chain=dstnat',
        '=protocol=tcp',
        '=dst-port=80',
        '=src-address-list=lab-isolated',
        '=action=dst-nat',
        `=to-addresses=${portalIp ?? ''}`,
        `=to-ports=${portalPort ?? ''}`,
      );
      await run(
        '/ip/firewall/filter/add',
        '=chain=forward',
        '=src-address-list=lab-isolated',
        '=protocol=udp',
        '=dst-port=53',
      );
      await run(
        '/ip/firewall/filter/add',
        '=chain=forward',
        '=src-address-list=lab-isolated',
        `=dst-address=${portalIp ?? ''}`,
      );
      await run(
        '/ip/firewall/filter/add',
        '=chain=forward',
        '=src-address-list=lab-isolated',
        '=action=drop',
      );
      nas.model.firewall.dns.set('news.example', ['198.51.100.20']);
    });
    afterAll(async () => {
      await new Promise((r) => portal?.server.close(r));
      await new Promise((r) => site?.server.close(r));
    });
    const internet = (): Map<string, string> => new Map([['198.51.100.20:80', site.address]]);

    it("sends an isolated subscriber's web request to the portal, with the Host they asked for", async () => {
      const r = await subscriberHttpRequest(nas.model, {
        src: isolated,
        url: 'http://news.example/today?x=1',
        dnsServer: '8.8.8.8',
        internet: internet(),
        sourceHeader: 'x-subscriber',
      });
      expect(r.outcome).toBe('answered');
      if (r.outcome !== 'answered') return;
      expect(r.reached).toBe(portal.address);
      expect(r.body).toBe(`portal host=news.example from=${isolated}`);
      expect(r.verdict.natRule).toMatch(/^\*/);
    });

    it("sends another subscriber's request where they asked", async () => {
      const r = await subscriberHttpRequest(nas.model, {
        src: free,
        url: 'http://news.example/',
        internet: internet(),
      });
      expect(r.outcome === 'answered' && r.body).toBe('site host=news.example');
      expect(r.verdict).toEqual({ action: 'accept', dst: '198.51.100.20', dstPort: 80 });
    });

    it('lets DNS through and drops everything else from the list, counting on the rules', async () => {
      expect(
        routePacket(nas.model, { src: isolated, dst: '8.8.8.8', protocol: 'udp', dstPort: 53 }).action,
      ).toBe('accept');
      const https = routePacket(nas.model, {
        src: isolated,
        dst: '198.51.100.20',
        protocol: 'tcp',
        dstPort: 443,
      });
      expect(https.action).toBe('drop');
      const drop = (await print('/ip/firewall/filter', `?.id=${https.filterRule ?? ''}`))[0];
      expect(drop).toMatchObject({ action: 'drop', packets: '1', bytes: '60' });
      const tcpDns = await subscriberHttpRequest(nas.model, {
        src: isolated,
        url: 'http://198.51.100.20:53/',
      });
      expect(tcpDns.outcome).toBe('dropped');
      expect(
        routePacket(nas.model, { src: free, dst: '198.51.100.20', protocol: 'tcp', dstPort: 443 }),
      ).toEqual({
        action: 'accept',
        dst: '198.51.100.20',
        dstPort: 443,
      });
    });

    it('sends from a loopback subscriber address itself, and proxies a browser through the rules', async () => {
      // A secret's remote-address is its session's address; 127.x can be the real source without root.
      await run('/ppp/profile/add', '=name=lab-walled', '=address-list=lab-isolated');
      await run('/ppp/secret/add', '=name=lo-sub', '=profile=lab-walled', '=remote-address=127.0.9.3');
      nas.model.scheduleReconnect('lo-sub', 0);
      const session = await waitFor('lo-sub dialled in', async () =>
        nas.activeSessions().find((a) => a.name === 'lo-sub'),
      );
      expect(session.address).toBe('127.0.9.3');
      const peers: string[] = [];
      const portalIp = portal.address.split(':')[0] ?? '';
      const seen = createServer((req, res) => {
        peers.push(`${req.socket.remoteAddress ?? ''} ${req.method ?? ''} ${req.headers.host ?? ''}`);
        req.resume().on('end', () => res.end('seen'));
      });
      await new Promise<void>((r) => seen.listen(0, portalIp, r));
      const nat = nas.model.firewall.nat.find((r) => r.fields['src-address-list'] === 'lab-isolated');
      const before = nat?.fields['to-ports'];
      if (nat) nat.fields['to-ports'] = String((seen.address() as AddressInfo).port);
      const proxy = await startSubscriberProxy(nas.model, { src: '127.0.9.3', internet: internet() });
      try {
        const direct = await subscriberHttpRequest(nas.model, {
          src: '127.0.9.3',
          url: 'http://news.example/',
        });
        expect(direct.outcome === 'answered' && direct.body).toBe('seen');
        const viaProxy = (path: string, method = 'GET'): Promise<{ status: number; body: string }> =>
          new Promise((resolve, reject) => {
            const u = new URL(proxy.url);
            const r = request({ host: u.hostname, port: u.port, path, method }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
              );
            });
            r.on('error', reject);
            r.end(method === 'POST' ? 'a=1' : undefined);
          });
        expect(await viaProxy('http://news.example/form', 'POST')).toEqual({ status: 200, body: 'seen' });
        const dropped = await viaProxy('http://198.51.100.20:8080/');
        expect(dropped.status).toBe(502);
        expect(dropped.body).toMatch(/^the lab router: dropped \(filter rule \*[0-9A-F]+\)$/);
        expect((await viaProxy('/relative')).status).toBe(400);
        expect(peers).toEqual(['127.0.9.3 GET news.example', '127.0.9.3 POST news.example']);
        expect(proxy.log.map((l) => l.outcome)).toEqual(['answered', 'dropped']);
      } finally {
        if (nat && before) nat.fields['to-ports'] = before;
        await proxy.close();
        await new Promise((r) => seen.close(r));
        await run('/ppp/secret/remove', '=numbers=lo-sub');
        await run('/ppp/active/remove', '=numbers=lo-sub');
      }
    });

    it('fails loudly on a rule it cannot evaluate instead of guessing', async () => {
      const id =
        (
          await run(
            '/ip/firewall/filter/add',
            '=chain=forward',
            '=in-interface=ether1',
            '=action=drop',
            `=place-before=${(await print('/ip/firewall/filter'))[0]?.['.id'] ?? ''}`,
          )
        ).ret ?? '';
      expect(() =>
        routePacket(nas.model, { src: free, dst: '198.51.100.20', protocol: 'tcp', dstPort: 80 }),
      ).toThrow(`rule ${id} (forward) matches on in-interface, which the lab's forwarder does not model`);
      await run('/ip/firewall/filter/remove', `=.id=${id}`);
    });
  });
});
