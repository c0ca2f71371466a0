// The RouterOS gateway against the project's RouterOS simulator: what billing asks of a router
// (create, plan change, suspend two ways, restore, remove, drift) and how it behaves when the router
// stops answering. Sessions belong to the simulator's own subscribers (`<router>-sub0001`, …), which
// billing adopts by applying their secrets with its comment.
import { RouterOsClient, RouterOsError } from '@ispmon/routeros';
import { startRouterLab, type RouterLab, type SimRouter } from '@ispmon/lab';
import { waitFor } from '@ispmon/testkit';
import {
  describeCommand,
  planSecretCommands,
  RouterBatchError,
  RouterCommandError,
  RouterOsGateway,
} from './routeros-gateway.js';
import type { DesiredSecret, RouterEndpoint } from './types.js';

const MANAGED = 'ispmon:sub=';

/** Waits for what the simulator decides in its own time (a CPE redials 1-1.5 s after losing its session). */
const until = (what: string, check: () => boolean): Promise<true> =>
  waitFor(what, async () => (check() ? true : undefined), { timeoutMs: 30_000 });

/** Per-command timeout: the gateway's default, so that a loaded machine does not time out a healthy router. */
function endpointOf(router: SimRouter, timeoutMs = 10_000): RouterEndpoint {
  return {
    name: router.name,
    host: router.host,
    port: router.port,
    username: router.username,
    password: router.password,
    tls: false,
    timeoutMs,
  };
}

/** The simulator's n-th subscriber (1-based) as billing wants it: its own password, on `profile`. */
function subscriber(router: SimRouter, n: number, profile = 'home-10M'): DesiredSecret {
  const name = `${router.name}-sub${String(n).padStart(4, '0')}`;
  const secret = router.secrets().find((s) => s.name === name);
  if (!secret) throw new Error(`no simulated subscriber ${name}`);
  return {
    name,
    password: secret.password,
    service: 'pppoe',
    profile,
    disabled: false,
    comment: `${MANAGED}${n}`,
  };
}

const secretOf = (router: SimRouter, name: string) => router.secrets().find((s) => s.name === name);
const sessionOf = (router: SimRouter, name: string) => router.activeSessions().find((s) => s.name === name);
/** The CPE's redial after its session was removed (due 1.5 s later, on the lab's tick) has been tried. */
const redialTried = (router: SimRouter, name: string) =>
  until(`${name}'s CPE to try to redial`, () => !router.model.reconnecting.has(name));

describe('RouterOsGateway on a simulated MikroTik', () => {
  let lab: RouterLab;
  let gateway: RouterOsGateway;
  let nas: SimRouter;
  let endpoint: RouterEndpoint;

  beforeAll(async () => {
    lab = await startRouterLab({
      routers: [
        { name: 'nas-1', version: '7.18.2', interfaces: 2, pppSessions: 12 },
        { name: 'nas-old', version: '6.42.12', interfaces: 2, pppSessions: 0 },
        { name: 'nas-flaky', version: '7.12.1', interfaces: 2, pppSessions: 0 },
      ],
    });
    nas = lab.router('nas-1');
    endpoint = endpointOf(nas);
    gateway = new RouterOsGateway();
    // Every profile a test uses exists, as the sync job's ensureProfiles makes sure before applying.
    await gateway.ensureProfiles(endpoint, [
      { name: 'isolir', rateLimit: '256k/256k', addressList: 'isolir' },
    ]);
  });
  afterAll(async () => {
    await gateway.close();
    await lab.stop();
  });

  it.each(['nas-1', 'nas-old'])(
    'creates secrets with the plan profile on %s, and a second apply changes nothing',
    async (routerName) => {
      const router = lab.router(routerName);
      const at = endpointOf(router);
      const wanted: DesiredSecret[] = [
        {
          name: `${routerName}-budi`,
          password: 'b-pass-1',
          service: 'pppoe',
          profile: 'home-10M',
          disabled: false,
          comment: `${MANAGED}101`,
        },
        {
          name: `${routerName}-sari`,
          password: 's-pass-2',
          service: 'pppoe',
          profile: 'home-20M',
          disabled: false,
          comment: `${MANAGED}102`,
          localAddress: '10.0.0.1',
          remoteAddress: '10.10.8.2',
        },
      ];
      expect(await gateway.apply(at, wanted, new Set())).toEqual([
        { name: `${routerName}-budi`, change: 'created', sessionsKicked: 0 },
        { name: `${routerName}-sari`, change: 'created', sessionsKicked: 0 },
      ]);
      expect(secretOf(router, `${routerName}-sari`)).toMatchObject({
        password: 's-pass-2',
        profile: 'home-20M',
        service: 'pppoe',
        disabled: false,
        comment: `${MANAGED}102`,
        localAddress: '10.0.0.1',
        remoteAddress: '10.10.8.2',
      });
      expect(secretOf(router, `${routerName}-budi`)?.profile).toBe('home-10M');

      const before = gateway.commandsSent;
      expect((await gateway.apply(at, wanted, new Set())).map((r) => r.change)).toEqual([
        'unchanged',
        'unchanged',
      ]);
      expect(gateway.commandsSent - before).toBe(1); // the read, nothing written
    },
  );

  it('creates the isolation profile only when it is missing and brings its rate limit in line', async () => {
    const spec = { name: 'isolir-test', rateLimit: '256k/256k', addressList: 'isolir' };
    await gateway.ensureProfiles(endpoint, [spec]);
    const profile = () => nas.model.profiles.find((p) => p.name === 'isolir-test');
    expect(profile()).toMatchObject({ rateLimit: '256k/256k', addressList: 'isolir' });
    const count = nas.model.profiles.length;

    const before = gateway.commandsSent;
    await gateway.ensureProfiles(endpoint, [spec]);
    expect(gateway.commandsSent - before).toBe(1);
    expect(nas.model.profiles.length).toBe(count);

    await gateway.ensureProfiles(endpoint, [{ ...spec, rateLimit: '512k/512k' }]);
    expect(profile()?.rateLimit).toBe('512k/512k');
  });

  it('suspends by disabling the secret: the session ends now and does not come back', async () => {
    const sub = subscriber(nas, 1);
    await gateway.apply(endpoint, [sub], new Set()); // adopt
    expect(sessionOf(nas, sub.name)).toBeDefined();

    const [result] = await gateway.apply(endpoint, [{ ...sub, disabled: true }], new Set([sub.name]));
    expect(result).toEqual({ name: sub.name, change: 'updated', sessionsKicked: 1 });
    expect(secretOf(nas, sub.name)?.disabled).toBe(true);
    expect(sessionOf(nas, sub.name)).toBeUndefined();
    await redialTried(nas, sub.name);
    expect(sessionOf(nas, sub.name)).toBeUndefined();

    // Suspending again is a no-op: nothing to change, no session to kick.
    expect(await gateway.apply(endpoint, [{ ...sub, disabled: true }], new Set([sub.name]))).toEqual([
      { name: sub.name, change: 'unchanged', sessionsKicked: 0 },
    ]);
  });

  it('suspends onto the isolation profile: the session is dropped and redials on isolir', async () => {
    const sub = subscriber(nas, 2);
    await gateway.apply(endpoint, [sub], new Set());
    const [result] = await gateway.apply(endpoint, [{ ...sub, profile: 'isolir' }], new Set([sub.name]));
    expect(result).toEqual({ name: sub.name, change: 'updated', sessionsKicked: 1 });
    expect(secretOf(nas, sub.name)).toMatchObject({ profile: 'isolir', disabled: false });
    await until(`${sub.name} redialled`, () => sessionOf(nas, sub.name) !== undefined);
    expect(sessionOf(nas, sub.name)?.profile).toBe('isolir');
  });

  it('restores both kinds of suspension: plan profile back, enabled, sessions back on the plan profile', async () => {
    const disabled = subscriber(nas, 3);
    const isolated = subscriber(nas, 4);
    await gateway.apply(endpoint, [disabled, isolated], new Set());
    await gateway.apply(
      endpoint,
      [
        { ...disabled, disabled: true },
        { ...isolated, profile: 'isolir' },
      ],
      new Set([disabled.name, isolated.name]),
    );
    await until(
      `${isolated.name} online on isolir`,
      () => sessionOf(nas, isolated.name)?.profile === 'isolir',
    );

    const results = await gateway.apply(
      endpoint,
      [disabled, isolated],
      new Set([disabled.name, isolated.name]),
    );
    expect(results).toEqual([
      { name: disabled.name, change: 'updated', sessionsKicked: 0 }, // no session while disabled
      { name: isolated.name, change: 'updated', sessionsKicked: 1 },
    ]);
    expect(secretOf(nas, disabled.name)).toMatchObject({ profile: 'home-10M', disabled: false });
    expect(secretOf(nas, isolated.name)).toMatchObject({ profile: 'home-10M', disabled: false });
    await until(
      'both online on home-10M',
      () =>
        sessionOf(nas, disabled.name)?.profile === 'home-10M' &&
        sessionOf(nas, isolated.name)?.profile === 'home-10M',
    );
  });

  it("moves a subscriber to the new plan's profile and, when asked, onto it now", async () => {
    const sub = subscriber(nas, 5);
    await gateway.apply(endpoint, [sub], new Set());
    const sessionProfile = sessionOf(nas, sub.name)?.profile;
    expect(sessionProfile).toBeDefined();
    expect(await gateway.apply(endpoint, [{ ...sub, profile: 'biz-50M' }], new Set())).toEqual([
      { name: sub.name, change: 'updated', sessionsKicked: 0 },
    ]);
    expect(secretOf(nas, sub.name)?.profile).toBe('biz-50M');
    expect(sessionOf(nas, sub.name)?.profile).toBe(sessionProfile); // a running session keeps its profile

    await gateway.apply(endpoint, [{ ...sub, profile: 'biz-50M' }], new Set([sub.name]));
    await until(`${sub.name} online on biz-50M`, () => sessionOf(nas, sub.name)?.profile === 'biz-50M');
  });

  it('reports each kind of drift made by hand on the router, and apply repairs it', async () => {
    const [missing, profile, disabled, password] = [6, 7, 8, 9].map((n) => subscriber(nas, n)) as [
      DesiredSecret,
      DesiredSecret,
      DesiredSecret,
      DesiredSecret,
    ];
    const desired = [missing, profile, disabled, password];
    await gateway.apply(endpoint, desired, new Set());
    expect(await gateway.diff(endpoint, desired, MANAGED)).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ secret: missing.name })]),
    );

    const hand = await RouterOsClient.connect({
      host: nas.host,
      port: nas.port,
      username: nas.username,
      password: nas.password,
    });
    try {
      await hand.command('/ppp/secret/remove', [`=numbers=${missing.name}`]);
      await hand.command('/ppp/secret/set', [`=numbers=${profile.name}`, '=profile=biz-50M']);
      await hand.command('/ppp/secret/disable', [`=numbers=${disabled.name}`]);
      await hand.command('/ppp/secret/set', [`=numbers=${password.name}`, '=password=changed-by-hand']);
      await hand.command('/ppp/secret/add', ['=name=ghost', '=profile=home-10M', `=comment=${MANAGED}999`]);
      await hand.command('/ppp/secret/add', ['=name=operator-test', '=profile=home-10M']);
    } finally {
      hand.close();
    }

    // Secrets adopted by other tests are desired too, so only this test's drift shows.
    const everyone = [...desired, ...[1, 2, 3, 4, 5].map((n) => subscriber(nas, n))];
    const others = (await gateway.diff(endpoint, everyone, MANAGED)).filter(
      (d) => desired.some((x) => x.name === d.secret) || d.kind === 'unknown_secret',
    );
    expect(others).toEqual(
      expect.arrayContaining([
        { secret: missing.name, kind: 'missing_secret', expected: 'home-10M' },
        { secret: profile.name, kind: 'wrong_profile', expected: 'home-10M', actual: 'biz-50M' },
        { secret: disabled.name, kind: 'wrong_disabled', expected: 'false', actual: 'true' },
        { secret: password.name, kind: 'wrong_password' },
        { secret: 'ghost', kind: 'unknown_secret', actual: `${MANAGED}999` },
      ]),
    );
    expect(others.filter((d) => d.kind === 'unknown_secret').map((d) => d.secret)).not.toContain(
      'operator-test',
    );
    expect(JSON.stringify(others)).not.toContain('changed-by-hand');

    expect((await gateway.apply(endpoint, desired, new Set())).map((r) => r.change)).toEqual([
      'created',
      'updated',
      'updated',
      'updated',
    ]);
    expect(await gateway.remove(endpoint, ['ghost'])).toEqual([
      { name: 'ghost', change: 'removed', sessionsKicked: 0 },
    ]);
    expect(await gateway.diff(endpoint, desired)).toEqual([]);
    expect(secretOf(nas, password.name)?.password).toBe(password.password);
    expect(secretOf(nas, 'operator-test')).toBeDefined();
  });

  it('removes secrets and their sessions; removing again, or a name never there, changes nothing', async () => {
    const sub = subscriber(nas, 10);
    await gateway.apply(endpoint, [sub], new Set());
    expect(await gateway.remove(endpoint, [sub.name, 'never-there'])).toEqual([
      { name: sub.name, change: 'removed', sessionsKicked: 1 },
      { name: 'never-there', change: 'unchanged', sessionsKicked: 0 },
    ]);
    expect(secretOf(nas, sub.name)).toBeUndefined();
    await redialTried(nas, sub.name);
    expect(sessionOf(nas, sub.name)).toBeUndefined();
    expect(await gateway.remove(endpoint, [sub.name])).toEqual([
      { name: sub.name, change: 'unchanged', sessionsKicked: 0 },
    ]);
  });

  it('names the secret and the command the router refused, never the password, and applies the rest', async () => {
    const good: DesiredSecret = {
      name: 'refusal-ok',
      password: 'fine-pass',
      service: 'pppoe',
      profile: 'home-10M',
      disabled: false,
    };
    const bad: DesiredSecret = {
      ...good,
      name: 'refusal-bad',
      password: 'hunter2-secret',
      profile: 'no-such-plan',
    };
    const err = await gateway.apply(endpoint, [good, bad], new Set()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterCommandError);
    const refused = err as RouterCommandError;
    expect(refused.reason).toBe('trap');
    expect(refused.subject).toBe('refusal-bad');
    expect(refused.message).toBe(
      "router nas-1: /ppp/secret/add name=refusal-bad password=*** service=pppoe profile=no-such-plan disabled=no for 'refusal-bad' was refused: input does not match any value of profile",
    );
    expect(refused.message).not.toContain('hunter2');
    expect(secretOf(nas, 'refusal-ok')?.profile).toBe('home-10M');

    const twice = await gateway
      .apply(endpoint, [bad, { ...bad, name: 'refusal-bad-2' }], new Set())
      .catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(RouterBatchError);
    expect((twice as RouterBatchError).failures.map((f) => f.subject)).toEqual([
      'refusal-bad',
      'refusal-bad-2',
    ]);
    expect((twice as Error).message).toMatch(/^router nas-1: 2 of 2 commands were refused; first: /);
  });

  it('rejects with a timeout when the router stops answering, and succeeds once it answers again', async () => {
    const flaky = lab.router('nas-flaky');
    const at = endpointOf(flaky, 3_000);
    const sub: DesiredSecret = {
      name: 'flaky-1',
      password: 'p',
      service: 'pppoe',
      profile: 'home-10M',
      disabled: false,
    };
    await gateway.apply(at, [sub], new Set()); // a connection is open and idle

    await flaky.setUnresponsive('silent');
    const err = await gateway.apply(at, [{ ...sub, disabled: true }], new Set()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterOsError);
    expect((err as RouterOsError).reason).toBe('timeout');
    expect((err as Error).message).toMatch(/no answer within 3000 ms$/); // the endpoint's bound, not the 10 s default
    // A fresh connection to a silent router fails the same way (login never answered).
    expect(
      ((await gateway.apply(at, [sub], new Set()).catch((e: unknown) => e)) as RouterOsError).reason,
    ).toBe('timeout');

    await flaky.setUnresponsive(false);
    expect(await gateway.apply(at, [{ ...sub, disabled: true }], new Set())).toEqual([
      { name: 'flaky-1', change: 'updated', sessionsKicked: 0 },
    ]);
  });

  it('rejects at once while the API port is closed, and reconnects once it opens again', async () => {
    const flaky = lab.router('nas-flaky');
    const at = endpointOf(flaky, 3_000);
    const sub: DesiredSecret = {
      name: 'flaky-2',
      password: 'p',
      service: 'pppoe',
      profile: 'home-10M',
      disabled: false,
    };
    await gateway.apply(at, [sub], new Set());

    await flaky.setUnresponsive('refuse');
    const err = await gateway.apply(at, [sub], new Set()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterOsError);
    expect((err as RouterOsError).reason).toBe('refused');
    expect((err as Error).message).not.toContain(flaky.password);

    await flaky.setUnresponsive(false);
    expect(await gateway.apply(at, [{ ...sub, profile: 'home-20M' }], new Set())).toEqual([
      { name: 'flaky-2', change: 'updated', sessionsKicked: 0 },
    ]);
  });

  it('dials again and finishes the apply when the open connection is cut in the middle of a reply', async () => {
    const flaky = lab.router('nas-flaky');
    const at = endpointOf(flaky);
    const sub: DesiredSecret = {
      name: 'flaky-3',
      password: 'p',
      service: 'pppoe',
      profile: 'home-10M',
      disabled: false,
    };
    await gateway.apply(at, [sub], new Set());
    flaky.closeMidReply();
    expect(await gateway.apply(at, [{ ...sub, profile: 'biz-50M' }], new Set())).toEqual([
      { name: 'flaky-3', change: 'updated', sessionsKicked: 0 },
    ]);
    expect(secretOf(flaky, 'flaky-3')?.profile).toBe('biz-50M');
  });

  it('reads many secrets with one print and pipelines the writes', async () => {
    const many: DesiredSecret[] = Array.from({ length: 300 }, (_, i) => ({
      name: `bulk-${i}`,
      password: `pw-${i}`,
      service: 'pppoe',
      profile: i % 2 ? 'home-10M' : 'home-20M',
      disabled: false,
      comment: `${MANAGED}${5_000 + i}`,
    }));
    const serial = new RouterOsGateway({ maxInFlight: 1 });
    try {
      const before = serial.commandsSent;
      expect(
        (await serial.apply(endpoint, many.slice(0, 150), new Set())).every((r) => r.change === 'created'),
      ).toBe(true);
      expect(serial.commandsSent - before).toBe(1 + 150);
    } finally {
      await serial.close();
    }
    const results = await gateway.apply(endpoint, many, new Set());
    expect(results.filter((r) => r.change === 'created')).toHaveLength(150);
    expect(results.filter((r) => r.change === 'unchanged')).toHaveLength(150);
    expect(await gateway.diff(endpoint, many)).toEqual([]);

    // Up to 100 names are looked up with `?name=` queries, 25 a print, instead of reading the table.
    const before = gateway.commandsSent;
    const some = await gateway.apply(endpoint, many.slice(0, 60), new Set());
    expect(some.map((r) => r.change)).toEqual(Array.from({ length: 60 }, () => 'unchanged'));
    expect(gateway.commandsSent - before).toBe(3);
  });
});

describe('planning secret commands (no router)', () => {
  const want: DesiredSecret = {
    name: 'andi',
    password: 'pw',
    service: 'pppoe',
    profile: 'home-10M',
    disabled: false,
    comment: 'ispmon:sub=1',
  };

  it('sets only the fields that differ, in one command', () => {
    const current = new Map([
      [
        'andi',
        {
          '.id': '*2A',
          name: 'andi',
          password: 'pw',
          service: 'pppoe',
          profile: 'isolir',
          disabled: 'true',
          comment: 'ispmon:sub=1',
        },
      ],
    ]);
    expect(planSecretCommands([want], current).commands).toEqual([
      { path: '/ppp/secret/set', subject: 'andi', words: ['=.id=*2A', '=profile=home-10M', '=disabled=no'] },
    ]);
  });

  it('leaves alone a password the router does not print (an API user without the sensitive policy)', () => {
    const current = new Map([
      [
        'andi',
        {
          '.id': '*2A',
          name: 'andi',
          service: 'pppoe',
          profile: 'home-10M',
          disabled: 'false',
          comment: 'ispmon:sub=1',
        },
      ],
    ]);
    expect(planSecretCommands([want], current)).toEqual({
      commands: [],
      results: [{ name: 'andi', change: 'unchanged', sessionsKicked: 0 }],
    });
  });

  it('masks passwords when it describes a command', () => {
    expect(
      describeCommand({
        path: '/ppp/secret/set',
        words: ['=.id=*2A', '=password=s3cret', '=profile=isolir'],
      }),
    ).toBe('/ppp/secret/set password=*** profile=isolir');
  });
});
