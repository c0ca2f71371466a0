import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { RouterOSAPI } from 'node-routeros';
import { waitFor } from '@ispmon/local-servers';
import { startRouterLab, type RouterLab } from './lab.js';
import { attributes, RawApiClient } from './raw-client.js';
import { encodeSentence, SentenceDecoder } from './protocol.js';

const execFileAsync = promisify(execFile);

describe('RouterOS API simulator', () => {
  let lab: RouterLab;
  const clients: RawApiClient[] = [];
  const client = async (name: string): Promise<RawApiClient> => {
    const c = await RawApiClient.connect(lab.router(name).port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    lab = await startRouterLab({
      tls: true,
      controlPort: 0,
      routers: [
        { name: 'v718', version: '7.18.2', interfaces: 4, pppSessions: 3 },
        { name: 'v712', version: '7.12.1', interfaces: 4, pppSessions: 3 },
        { name: 'v649', version: '6.49.10', interfaces: 4, pppSessions: 3 },
        { name: 'v642', version: '6.42.12', interfaces: 4, pppSessions: 3, password: 'old-secret' },
      ],
    });
  }, 120_000);
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await lab.stop();
  });

  it('answers a wrong password with !trap then !done', async () => {
    const c = await client('v712');
    const replies = await c.command(['/login', '=name=admin', '=password=wrong'], 'l');
    expect(replies).toEqual([
      ['!trap', '.tag=l', '=message=invalid user name or password (6)'],
      ['!done', '.tag=l'],
    ]);
  });

  it('logs in to a pre-6.43 router with the MD5 challenge', async () => {
    const c = await client('v642');
    const [challengeReply] = await c.command(['/login'], 'c');
    const challenge = attributes(challengeReply ?? []).ret ?? '';
    expect(challenge).toMatch(/^[0-9a-f]{32}$/);
    const digest = createHash('md5')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from('old-secret'), Buffer.from(challenge, 'hex')]))
      .digest('hex');
    const ok = await c.command(['/login', '=name=admin', `=response=00${digest}`], 'r');
    expect(ok).toEqual([['!done', '.tag=r']]);
    const bad = await c.command(['/login', '=name=admin', '=response=00deadbeef'], 'b');
    expect(bad[0]).toEqual(['!trap', '.tag=b', '=message=cannot log in']);
  });

  it('refuses commands before login', async () => {
    const c = await client('v712');
    const replies = await c.command(['/interface/print'], 'x');
    expect(replies[0]?.[0]).toBe('!trap');
    expect(attributes(replies[0] ?? []).message).toBe('not logged in');
  });

  it('answers unknown commands with the RouterOS trap texts', async () => {
    const c = await client('v712');
    await c.login('admin', 'lab-password');
    expect(attributes((await c.command(['/nonsense/print'], 'a'))[0] ?? []).message).toBe(
      'no such command prefix',
    );
    expect(attributes((await c.command(['/interface/frobnicate'], 'b'))[0] ?? []).message).toBe(
      'no such command',
    );
    expect(
      attributes((await c.command(['/ppp/secret/add', '=name=x', '=colour=red'], 'c'))[0] ?? []).message,
    ).toBe('unknown parameter colour');
    expect(attributes((await c.command(['/ppp/secret/remove', '=.id=*FFFF'], 'd'))[0] ?? []).message).toBe(
      'no such item',
    );
  });

  it('multiplexes tagged commands sent back to back', async () => {
    const c = await client('v712');
    await c.login('admin', 'lab-password');
    c.send('/system/resource/print', '.tag=1');
    c.send('/interface/print', '=.proplist=name,rx-byte', '.tag=2');
    c.send('/ppp/active/print', '=count-only=', '.tag=3');
    await c.until((s) => s[0] === '!done' && s[1] === '.tag=3');
    await c.until((s) => s[0] === '!done' && s[1] === '.tag=2');
    await c.until((s) => s[0] === '!done' && s[1] === '.tag=1');
    const interfaces = c.replies.filter((s) => s[0] === '!re' && s[1] === '.tag=2').map(attributes);
    expect(interfaces).toHaveLength(4);
    expect(Object.keys(interfaces[0] ?? {})).toEqual(['name', 'rx-byte']);
    expect(BigInt(interfaces[0]?.['rx-byte'] ?? '0')).toBeGreaterThan(2n ** 53n);
    expect(c.replies.find((s) => s[0] === '!done' && s[1] === '.tag=3')).toEqual([
      '!done',
      '.tag=3',
      '=ret=3',
    ]);
    const resource = attributes(c.replies.find((s) => s[0] === '!re' && s[1] === '.tag=1') ?? []);
    expect(resource.version).toBe('7.12.1 (stable)');
    expect(resource.uptime).toMatch(/^(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/);
  });

  it('sends !empty for an empty print only from RouterOS 7.18 on', async () => {
    for (const [name, expectEmpty] of [
      ['v718', true],
      ['v712', false],
    ] as const) {
      const c = await client(name);
      await c.login('admin', 'lab-password');
      const replies = await c.command(['/ppp/secret/print', '?name=nobody'], 'e');
      expect(replies.map((s) => s[0])).toEqual(expectEmpty ? ['!empty', '!done'] : ['!done']);
    }
  });

  it('filters print with query words and stack operations', async () => {
    const c = await client('v712');
    await c.login('admin', 'lab-password');
    const names = async (tag: string, ...queries: string[]): Promise<string[]> =>
      (await c.command(['/interface/print', '=.proplist=name', ...queries], tag))
        .filter((s) => s[0] === '!re')
        .map((s) => attributes(s).name ?? '');
    expect(await names('a', '?name=sfp-sfpplus2')).toEqual(['sfp-sfpplus2']);
    expect(await names('b', '?name=sfp-sfpplus1', '?name=sfp-sfpplus3', '?#|')).toEqual([
      'sfp-sfpplus1',
      'sfp-sfpplus3',
    ]);
    expect(await names('c', '?name=sfp-sfpplus1', '?#!')).toEqual([
      'sfp-sfpplus2',
      'sfp-sfpplus3',
      'sfp-sfpplus4',
    ]);
    expect(await names('d', '?-comment')).toEqual(['sfp-sfpplus1', 'sfp-sfpplus2']);
    expect(await names('e', '?>mtu=1000', '?type=ether')).toHaveLength(4);
  });

  it('cancels a running listen with the interrupted trap', async () => {
    const c = await client('v712');
    await c.login('admin', 'lab-password');
    c.send('/interface/listen', '.tag=10');
    // a session handles sentences in order: once a later command is done, the listen is registered
    await c.command(['/interface/print', '=count-only='], 'sync');
    lab.router('v712').setInterfaceRunning('sfp-sfpplus2', false);
    const change = await c.until((s) => s[0] === '!re' && s[1] === '.tag=10');
    expect(attributes(change)).toMatchObject({ name: 'sfp-sfpplus2', running: 'false' });
    lab.router('v712').setInterfaceRunning('sfp-sfpplus2', true);
    c.send('/cancel', '=tag=10', '.tag=20');
    await c.until((s) => s[0] === '!done' && s[1] === '.tag=10');
    const tail = c.replies.slice(c.replies.findIndex((s) => s[0] === '!trap'));
    expect(tail).toEqual([
      ['!trap', '.tag=10', '=category=2', '=message=interrupted'],
      ['!done', '.tag=20'],
      ['!done', '.tag=10'],
    ]);
  });

  it('closes the session with !fatal on /quit', async () => {
    const c = await client('v712');
    c.send('/quit');
    const fatal = await c.until((s) => s[0] === '!fatal');
    expect(fatal).toEqual(['!fatal', 'session terminated on request']);
  });

  it('adds, sets, disables and removes PPP secrets and profiles', async () => {
    const c = await client('v712');
    await c.login('admin', 'lab-password');
    const [added] = await c.command(['/ppp/profile/add', '=name=isolir', '=rate-limit=512k/512k'], 'p');
    expect(added?.[0]).toBe('!done');
    const [secret] = await c.command(
      ['/ppp/secret/add', '=name=budi', '=password=s3cret', '=profile=home-10M', '=service=pppoe'],
      's',
    );
    const id = attributes(secret ?? []).ret ?? '';
    expect(id).toMatch(/^\*[0-9A-F]+$/);
    const dup = await c.command(['/ppp/secret/add', '=name=budi', '=profile=home-10M'], 'd');
    expect(attributes(dup[0] ?? []).message).toBe('failure: secret with the same name already exists');
    await c.command(['/ppp/secret/set', `=.id=${id}`, '=profile=isolir'], 'u');
    await c.command(['/ppp/secret/disable', '=numbers=budi'], 'x');
    const rows = (await c.command(['/ppp/secret/print', '?name=budi'], 'q'))
      .filter((s) => s[0] === '!re')
      .map(attributes);
    expect(rows).toEqual([
      expect.objectContaining({
        '.id': id,
        name: 'budi',
        profile: 'isolir',
        disabled: 'true',
        service: 'pppoe',
      }),
    ]);
    await c.command(['/ppp/secret/remove', `=.id=${id}`], 'r');
    expect((await c.command(['/ppp/secret/print', '=count-only=', '?name=budi'], 'n'))[0]).toEqual([
      '!done',
      '.tag=n',
      '=ret=0',
    ]);
  });

  it('keeps local-address on secrets and address-list on profiles, as RouterOS prints them', async () => {
    const c = await client('v718');
    await c.login('admin', 'lab-password');
    await c.command(
      ['/ppp/profile/add', '=name=walled', '=rate-limit=256k/256k', '=address-list=isolir'],
      'p',
    );
    await c.command(
      [
        '/ppp/secret/add',
        '=name=sari',
        '=profile=walled',
        '=local-address=10.0.0.1',
        '=remote-address=10.10.9.9',
      ],
      's',
    );
    let n = 0;
    const print = async (path: string, name: string, proplist: string): Promise<Record<string, string>[]> =>
      (await c.command([`${path}/print`, `=.proplist=${proplist}`, `?name=${name}`], `q${++n}`))
        .filter((s) => s[0] === '!re')
        .map(attributes);
    expect(await print('/ppp/secret', 'sari', 'name,local-address,remote-address')).toEqual([
      { name: 'sari', 'local-address': '10.0.0.1', 'remote-address': '10.10.9.9' },
    ]);
    expect(await print('/ppp/profile', 'walled', 'name,address-list')).toEqual([
      { name: 'walled', 'address-list': 'isolir' },
    ]);
    await c.command(['/ppp/secret/set', '=numbers=sari', '=local-address=10.0.0.2'], 'u');
    await c.command(['/ppp/profile/set', '=numbers=walled', '=address-list=blocked'], 'v');
    expect((await print('/ppp/secret', 'sari', 'local-address'))[0]?.['local-address']).toBe('10.0.0.2');
    expect((await print('/ppp/profile', 'walled', 'address-list'))[0]?.['address-list']).toBe('blocked');
    await c.command(['/ppp/secret/remove', '=numbers=sari'], 'r');
    await c.command(['/ppp/profile/remove', '=numbers=walled'], 'x');
  });

  it('keeps a disabled subscriber out after its session is removed, and redials an enabled one on its new profile', async () => {
    const router = lab.router('v712');
    const [first, second] = router.activeSessions();
    const disabledName = first?.name ?? '';
    const movedName = second?.name ?? '';
    const c = await client('v712');
    await c.login('admin', 'lab-password');
    await c.command(['/ppp/secret/disable', `=numbers=${disabledName}`], 'a');
    await c.command(['/ppp/secret/set', `=numbers=${movedName}`, '=profile=biz-50M'], 'b');
    await c.command(['/ppp/active/remove', `=numbers=${disabledName},${movedName}`], 'c');
    expect(router.activeSessions().map((s) => s.name)).not.toContain(movedName);
    const moved = await waitFor('the enabled subscriber to redial', async () =>
      router.activeSessions().find((s) => s.name === movedName),
    );
    expect(moved.profile).toBe('biz-50M');
    expect(router.activeSessions().some((s) => s.name === disabledName)).toBe(false);
  });

  it('prints health as flat fields on RouterOS 6 and as name/value rows on RouterOS 7', async () => {
    const v6 = await client('v649');
    await v6.login('admin', 'lab-password');
    const flat = (await v6.command(['/system/health/print'], 'h'))
      .filter((s) => s[0] === '!re')
      .map(attributes);
    expect(flat).toEqual([
      expect.objectContaining({
        voltage: expect.stringMatching(/^\d+\.\d$/),
        temperature: expect.stringMatching(/^\d+$/),
      }),
    ]);
    const v7 = await client('v712');
    await v7.login('admin', 'lab-password');
    const rows = (await v7.command(['/system/health/print'], 'h'))
      .filter((s) => s[0] === '!re')
      .map(attributes);
    expect(rows).toContainEqual(expect.objectContaining({ name: 'temperature', type: 'C' }));
  });

  it('sends comments as the raw bytes RouterOS stores', async () => {
    const socket = connect(lab.router('v712').port, '127.0.0.1');
    const decoder = new SentenceDecoder();
    const sentences: Buffer[][] = [];
    socket.on('data', (chunk: Buffer) => sentences.push(...decoder.push(chunk)));
    socket.write(encodeSentence(['/login', '=name=admin', '=password=lab-password']));
    socket.write(encodeSentence(['/interface/print', '?name=sfp-sfpplus4', '=.proplist=comment']));
    await waitFor('the login and the print to be done', async () =>
      sentences.filter((s) => s[0]?.toString() === '!done').length >= 2 ? true : undefined,
    );
    socket.destroy();
    const comment = sentences.find((s) => s[0]?.toString() === '!re')?.[1];
    // "=comment=Клиент" in windows-1251, not UTF-8
    expect(
      comment?.equals(
        Buffer.concat([Buffer.from('=comment='), Buffer.from([0xca, 0xeb, 0xe8, 0xe5, 0xed, 0xf2])]),
      ),
    ).toBe(true);
  });

  it('serves API-SSL on a second port', async () => {
    const router = lab.router('v712');
    const socket = tlsConnect({
      port: router.tlsPort ?? 0,
      host: '127.0.0.1',
      ca: lab.certificate,
      servername: 'localhost',
    });
    const decoder = new SentenceDecoder();
    const got = new Promise<string[]>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        const [s] = decoder.push(chunk);
        if (s) resolve(s.map((w) => w.toString()));
      });
      socket.on('error', reject);
    });
    socket.write(encodeSentence(['/login', '=name=admin', '=password=lab-password']));
    expect(await got).toEqual(['!done']);
    socket.destroy();
  });

  describe('scenarios', () => {
    it('a silent router accepts TCP and never answers', async () => {
      const router = lab.router('v649');
      await router.setUnresponsive('silent');
      const c = await client('v649');
      c.send('/login', '=name=admin', '=password=lab-password');
      await expect(c.until(() => true, 500)).rejects.toThrow(/timed out/);
      await router.setUnresponsive(false);
      const again = await client('v649');
      await again.login('admin', 'lab-password');
    });

    it('a refusing router closes its port and reopens it on recovery', async () => {
      const router = lab.router('v649');
      await router.setUnresponsive('refuse');
      await expect(RawApiClient.connect(router.port)).rejects.toThrow(/ECONNREFUSED/);
      await router.setUnresponsive(false);
      const c = await client('v649');
      await c.login('admin', 'lab-password');
    });

    it('closes a connection in the middle of a reply', async () => {
      const c = await client('v649');
      await c.login('admin', 'lab-password');
      lab.router('v649').closeMidReply();
      c.send('/interface/print', '.tag=m');
      await expect(c.until((s) => s[0] === '!done' && s[1] === '.tag=m')).rejects.toThrow(/closed/);
    });

    it('shows an interface going down through the HTTP control API within a second', async () => {
      const c = await client('v712');
      await c.login('admin', 'lab-password');
      const res = await fetch(`${lab.controlUrl}/routers/v712/interfaces/sfp-sfpplus3`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ running: false }),
      });
      expect(res.status).toBe(200);
      const [row] = (await c.command(['/interface/print', '?name=sfp-sfpplus3'], 'i'))
        .filter((s) => s[0] === '!re')
        .map(attributes);
      expect(row).toMatchObject({ running: 'false', 'link-downs': '1' });
      const before = BigInt(row?.['rx-byte'] ?? '0');
      await new Promise((r) => setTimeout(r, 300));
      const [later] = (await c.command(['/interface/print', '?name=sfp-sfpplus3'], 'j'))
        .filter((s) => s[0] === '!re')
        .map(attributes);
      expect(BigInt(later?.['rx-byte'] ?? '0')).toBe(before);
      await fetch(`${lab.controlUrl}/routers/v712/interfaces/sfp-sfpplus3`, {
        method: 'POST',
        body: JSON.stringify({ running: true }),
      });
    });

    it('injects receive errors on an interface through the HTTP control API, and rejects a bad rate', async () => {
      const c = await client('v712');
      await c.login('admin', 'lab-password');
      let tags = 0;
      const errors = async (): Promise<number> => {
        tags += 1;
        const [row] = (await c.command(['/interface/print', '?name=sfp-sfpplus4'], `e${tags}`))
          .filter((s) => s[0] === '!re')
          .map(attributes);
        return Number(row?.['rx-error']);
      };
      const post = (body: unknown): Promise<Response> =>
        fetch(`${lab.controlUrl}/routers/v712/interfaces/sfp-sfpplus4`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
      const before = await errors();
      expect((await post({ errorsPerSecond: 1000 })).status).toBe(200);
      await waitFor('injected errors counted', async () => ((await errors()) > before ? true : undefined), {
        timeoutMs: 30_000,
      });
      expect((await post({ errorsPerSecond: 0 })).status).toBe(200);
      const bad = await post({ errorsPerSecond: -1 });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        error: 'running must be a boolean and errorsPerSecond a number ≥ 0',
      });
      const none = await post({});
      expect(none.status).toBe(400);
      expect(await none.json()).toEqual({ error: 'give running (boolean) or errorsPerSecond (number ≥ 0)' });
      const unknown = await fetch(`${lab.controlUrl}/routers/v712/interfaces/nope`, {
        method: 'POST',
        body: JSON.stringify({ errorsPerSecond: 3 }),
      });
      expect(unknown.status).toBe(404);
    });

    it('drops every PPP session at once (mass disconnect) and they come back', async () => {
      // Logged in before the disconnect, so the empty read follows it at once; the sessions' return is
      // waited for (reconnectAfterMs is a lower bound, a loaded machine may take longer).
      const c = await client('v718');
      await c.login('admin', 'lab-password');
      const reconnectAfterMs = 1_500;
      const dropped = performance.now();
      const res = await fetch(`${lab.controlUrl}/routers/v718/ppp/disconnect-all`, {
        method: 'POST',
        body: JSON.stringify({ reconnectAfterMs }),
      });
      expect(await res.json()).toEqual({ disconnected: 3 });
      expect((await c.command(['/ppp/active/print'], 'a')).map((s) => s[0])).toEqual(['!empty', '!done']);
      let n = 0;
      await waitFor(
        'the three sessions to come back',
        async () => {
          const reply = await c.command(['/ppp/active/print', '=count-only='], `b${(n += 1)}`);
          return reply[0]?.[2] === '=ret=3' ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(performance.now() - dropped).toBeGreaterThanOrEqual(reconnectAfterMs);
    });

    it('rejects a bad control request with a clear error', async () => {
      const res = await fetch(`${lab.controlUrl}/routers/v712/unresponsive`, {
        method: 'POST',
        body: JSON.stringify({ mode: 'sleepy' }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'mode must be "silent", "refuse" or false' });
    });
  });

  describe('independent clients', () => {
    it("Debian's python3-librouteros logs in and reads /system/resource and /interface", async () => {
      const router = lab.router('v712');
      const script = [
        'import json, sys',
        'from librouteros import connect',
        `api = connect(host='127.0.0.1', port=${router.port}, username='admin', password='lab-password', encoding='latin-1')`, // librouteros decodes words as strict ASCII by default; RouterOS comments hold raw bytes
        "res = list(api.path('system', 'resource'))",
        "ifs = list(api.path('interface'))",
        "print(json.dumps({'version': res[0]['version'], 'cpu': res[0]['cpu-load'], 'interfaces': [i['name'] for i in ifs], 'running': [i['running'] for i in ifs]}))",
      ].join('\n');
      const { stdout } = await execFileAsync('/usr/bin/python3', ['-c', script], { timeout: 15_000 });
      const out = JSON.parse(stdout) as {
        version: string;
        cpu: number;
        interfaces: string[];
        running: boolean[];
      };
      expect(out.version).toBe('7.12.1 (stable)');
      expect(typeof out.cpu).toBe('number');
      expect(out.interfaces).toEqual(router.interfaces().map((i) => i.name));
      expect(out.running.every((r) => typeof r === 'boolean')).toBe(true);
    });

    it('node-routeros logs in and adds, sets and removes a PPP secret', async () => {
      const router = lab.router('v712');
      const api = new RouterOSAPI({
        host: '127.0.0.1',
        port: router.port,
        user: 'admin',
        password: 'lab-password',
        timeout: 5,
      });
      await api.connect();
      try {
        const added = await api.write('/ppp/secret/add', [
          '=name=node-client',
          '=password=x',
          '=profile=home-20M',
        ]);
        const id = (added[0] as { ret?: string } | undefined)?.ret;
        expect(id).toMatch(/^\*/);
        await api.write('/ppp/secret/set', [`=.id=${id}`, '=profile=biz-50M']);
        expect(router.secrets().find((s) => s.name === 'node-client')?.profile).toBe('biz-50M');
        await api.write('/ppp/secret/remove', [`=.id=${id}`]);
        expect(router.secrets().some((s) => s.name === 'node-client')).toBe(false);
      } finally {
        await api.close();
      }
    });
  });
});
