import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startRouterLab, type RouterLab } from '@ispmon/lab';
import { waitFor } from '@ispmon/testkit';
import { Exporter } from './app.js';
import { parseExposition, sampleValue, type ParsedSample } from '../test/support/exposition-parser.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
/** The routers' timeout where the test does not set 700 ms. */
const DEFAULT_TIMEOUT_MS = 15_000;

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

describe('exporter against the RouterOS simulator', () => {
  let lab: RouterLab;
  let exporter: Exporter;
  let base: string;
  let dir: string;
  let garbage: Server;
  let garbagePort = 0;
  const clock = NOW;
  const logs: string[] = [];

  const probe = async (
    target: string,
    module?: string,
  ): Promise<{ status: number; text: string; samples: ParsedSample[] }> => {
    const res = await fetch(
      `${base}/probe?target=${encodeURIComponent(target)}${module ? `&module=${module}` : ''}`,
    );
    const text = await res.text();
    return { status: res.status, text, samples: res.status === 200 ? parseExposition(text) : [] };
  };

  beforeAll(async () => {
    lab = await startRouterLab({
      clock: () => clock,
      tls: true,
      routers: [
        { name: 'core-718', version: '7.18.2', interfaces: 6, pppSessions: 12 },
        { name: 'edge-712', version: '7.12.1', interfaces: 6, pppSessions: 0 },
        { name: 'old-649', version: '6.49.10', interfaces: 4, pppSessions: 5 },
        { name: 'legacy-642', version: '6.42.12', interfaces: 4, pppSessions: 5 },
        { name: 'silent', version: '7.12.1', interfaces: 2, pppSessions: 1 },
        { name: 'refusing', version: '7.12.1', interfaces: 2, pppSessions: 1 },
        { name: 'empty-718', version: '7.18.2', interfaces: 2, pppSessions: 0 },
        { name: 'partial', version: '7.12.1', interfaces: 4, pppSessions: 3 },
        { name: 'outage', version: '7.18.2', interfaces: 2, pppSessions: 8 },
      ],
    });
    await lab.router('silent').setUnresponsive('silent');
    await lab.router('refusing').setUnresponsive('refuse');
    // A "router" that answers the login with a malformed word length.
    garbage = createServer((socket) =>
      socket.on('data', () => socket.write(Buffer.from([0xf9, 0x01, 0x02]))),
    );
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    const ga = garbage.address();
    garbagePort = typeof ga === 'object' && ga ? ga.port : 0;

    dir = mkdtempSync(join(tmpdir(), 'ispmon-exporter-test-'));
    const certFile = join(dir, 'lab-ca.pem');
    writeFileSync(certFile, lab.certificate ?? '');
    writeFileSync(join(dir, 'router-password'), 'lab-password\n');
    process.env.ISPMON_TEST_ROUTER_PASSWORD = 'lab-password';
    // The failing routers time out after 700 ms; the healthy ones get the (long) default, so a loaded
    // machine cannot turn a slow answer into a failure, and the two timeouts cannot be mistaken.
    const r = (name: string, extra = ''): string => {
      const router = lab.router(name);
      const timeout = ['silent', 'refusing'].includes(name) ? ', timeout: 700ms' : '';
      return `    - { name: ${name}, host: 127.0.0.1, port: ${router.port}, username: admin, password: { env: ISPMON_TEST_ROUTER_PASSWORD }${timeout}${extra} }\n`;
    };
    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0\ndefault_timeout: ${DEFAULT_TIMEOUT_MS}ms\nmodules:\n  routeros_detail: { type: routeros, ppp_session_detail: true, ppp_session_limit: 10 }\ntarget_files: [targets/*.yml]\ntargets:\n  routers:\n` +
        r('core-718') +
        r('edge-712', ', encoding: windows-1251') +
        r('old-649') +
        r('legacy-642') +
        r('silent') +
        r('refusing') +
        r('empty-718') +
        r('partial') +
        r('outage') +
        `    - { name: core-718-ssl, host: 127.0.0.1, port: ${lab.router('core-718').tlsPort}, tls: { ca_file: lab-ca.pem, server_name: localhost }, username: admin, password: { file: router-password } }\n` +
        `    - { name: wrong-password, host: 127.0.0.1, port: ${lab.router('edge-712').port}, username: admin, password: nope, timeout: 700ms }\n` +
        `    - { name: garbage, host: 127.0.0.1, port: ${garbagePort}, username: admin, password: x, timeout: 700ms }\n`,
    );
    exporter = new Exporter({
      configFile: join(dir, 'exporter.yml'),
      logger: pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) }),
      targetFilePollMs: 100,
    });
    exporter.load();
    base = `http://${await exporter.listen()}`;
  }, 120_000);

  afterAll(async () => {
    await exporter.close();
    await lab.stop();
    await new Promise((r) => garbage.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports every interface counter exactly as the router prints it, past 2^53 included', async () => {
    const { samples } = await probe('core-718');
    expect(sampleValue(samples, 'mikrotik_up')).toBe('1');
    const router = lab.router('core-718');
    for (const iface of router.interfaces()) {
      const row = router.model.interfaceRow(iface);
      expect(sampleValue(samples, 'mikrotik_interface_receive_bytes_total', { interface: iface.name })).toBe(
        row['rx-byte'],
      );
      expect(sampleValue(samples, 'mikrotik_interface_transmit_bytes_total', { interface: iface.name })).toBe(
        row['tx-byte'],
      );
      expect(
        sampleValue(samples, 'mikrotik_interface_receive_packets_total', { interface: iface.name }),
      ).toBe(row['rx-packet']);
      expect(sampleValue(samples, 'mikrotik_interface_receive_drops_total', { interface: iface.name })).toBe(
        row['rx-drop'],
      );
      expect(sampleValue(samples, 'mikrotik_interface_receive_errors_total', { interface: iface.name })).toBe(
        row['rx-error'],
      );
      expect(sampleValue(samples, 'mikrotik_interface_running', { interface: iface.name })).toBe('1');
    }
    expect(
      BigInt(sampleValue(samples, 'mikrotik_interface_receive_bytes_total', { interface: 'sfp-sfpplus1' })),
    ).toBeGreaterThan(2n ** 53n);
    expect(sampleValue(samples, 'mikrotik_interface_speed_bytes', { interface: 'sfp-sfpplus1' })).toBe(
      '1250000000',
    );
  });

  it('exports system, identity and health figures from the router', async () => {
    const { samples } = await probe('old-649');
    const res = lab.router('old-649').model.resourceRow();
    expect(Number(sampleValue(samples, 'mikrotik_system_cpu_load_ratio'))).toBeCloseTo(
      Number(res['cpu-load']) / 100,
      10,
    );
    expect(sampleValue(samples, 'mikrotik_system_memory_free_bytes')).toBe(res['free-memory']);
    expect(sampleValue(samples, 'mikrotik_system_memory_total_bytes')).toBe('4294967296');
    const info = samples.find((s) => s.name === 'mikrotik_system_info');
    expect(info?.labels).toMatchObject({
      identity: 'old-649',
      version: '6.49.10',
      board: 'CCR2004-1G-12S+2XS',
    });
    // RouterOS 6 flat health and RouterOS 7 rows give the same series.
    expect(sampleValue(samples, 'mikrotik_health_temperature_celsius', { sensor: 'temperature' })).toBe('41');
    expect(sampleValue(samples, 'mikrotik_health_voltage_volts', { sensor: 'voltage' })).toBe('24.1');
    const v7 = (await probe('core-718')).samples;
    expect(sampleValue(v7, 'mikrotik_health_temperature_celsius', { sensor: 'temperature' })).toBe('41');
    expect(sampleValue(v7, 'mikrotik_health_fan_speed_rpm', { sensor: 'fan1-speed' })).toBe('4560');
    expect(sampleValue(v7, 'mikrotik_health_state', { sensor: 'psu1-state', state: 'ok' })).toBe('1');
    expect(sampleValue(v7, 'mikrotik_health_state', { sensor: 'psu1-state', state: 'fail' })).toBe('0');
  });

  it('counts PPP sessions per service and profile, and secrets per profile and state', async () => {
    const router = lab.router('core-718');
    const { samples } = await probe('core-718');
    for (const profile of ['home-10M', 'home-20M', 'biz-50M']) {
      const expected = router.activeSessions().filter((a) => a.profile === profile).length;
      expect(sampleValue(samples, 'mikrotik_ppp_active_sessions', { service: 'pppoe', profile })).toBe(
        String(expected),
      );
      const secrets = router.secrets().filter((s) => s.profile === profile && !s.disabled).length;
      expect(sampleValue(samples, 'mikrotik_ppp_secrets', { profile, state: 'enabled' })).toBe(
        String(secrets),
      );
    }
    expect(samples.some((s) => s.name === 'mikrotik_ppp_session_uptime_seconds')).toBe(false);
  });

  it('exports per-subscriber PPP metrics only when the module opts in, within the cardinality limit', async () => {
    const { samples } = await probe('core-718', 'routeros_detail');
    const uptimes = samples.filter((s) => s.name === 'mikrotik_ppp_session_uptime_seconds');
    expect(uptimes).toHaveLength(10);
    expect(sampleValue(samples, 'mikrotik_ppp_sessions_not_exported')).toBe('2');
    const first = lab.router('core-718').activeSessions()[0];
    expect(
      Number(sampleValue(samples, 'mikrotik_ppp_session_uptime_seconds', { user: first?.name ?? '' })),
    ).toBe(Math.floor(NOW / 1000 - (first?.since ?? 0)));
    expect(samples.filter((s) => s.name === 'mikrotik_ppp_session_download_bytes_total')).toHaveLength(10);
  });

  it('exports queues, pools, DHCP leases and netwatch', async () => {
    const { samples } = await probe('core-718');
    expect(
      sampleValue(samples, 'mikrotik_queue_simple_max_limit_bytes_per_second', {
        queue: 'uplink-shaper',
        direction: 'download',
      }),
    ).toBe('125000000');
    expect(sampleValue(samples, 'mikrotik_ip_pool_size_addresses', { pool: 'pool-pppoe' })).toBe(
      String(4 * 256 - 2 - 1),
    ); // 10.10.0.2-10.10.3.254
    expect(sampleValue(samples, 'mikrotik_ip_pool_used_addresses', { pool: 'pool-pppoe' })).toBe('12');
    expect(sampleValue(samples, 'mikrotik_dhcp_leases', { server: 'dhcp-lan', status: 'bound' })).toBe('4');
    expect(sampleValue(samples, 'mikrotik_netwatch_up', { host: '10.255.0.2' })).toBe('0');
    expect(sampleValue(samples, 'mikrotik_netwatch_up', { host: '8.8.8.8' })).toBe('1');
  });

  it('survives the !empty reply of RouterOS 7.18 for an empty print', async () => {
    const { samples } = await probe('empty-718');
    expect(sampleValue(samples, 'mikrotik_up')).toBe('1');
    expect(sampleValue(samples, 'mikrotik_scrape_collector_success', { collector: 'ppp_active' })).toBe('1');
    // Nobody connected: the router's total is present and 0 (profiles from its secrets), not absent.
    const sessions = samples.filter((s) => s.name === 'mikrotik_ppp_active_sessions');
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((s) => s.value === '0')).toBe(true);
  });

  it('keeps the data of every other command when the router refuses one, and names the refused one', async () => {
    const router = lab.router('partial');
    router.refuseMenu('/interface/ethernet', 'not enough permissions (9)');
    try {
      const before = logs.length;
      const first = await probe('partial');
      const second = await probe('partial');
      for (const { samples } of [first, second]) {
        expect(sampleValue(samples, 'mikrotik_up')).toBe('1');
        for (const iface of router.interfaces()) {
          const row = router.model.interfaceRow(iface);
          expect(
            sampleValue(samples, 'mikrotik_interface_receive_bytes_total', { interface: iface.name }),
          ).toBe(row['rx-byte']);
        }
        expect(samples.filter((s) => s.name === 'mikrotik_interface_speed_bytes')).toEqual([]);
        expect(sampleValue(samples, 'mikrotik_scrape_collector_success', { collector: 'interfaces' })).toBe(
          '0',
        );
        expect(sampleValue(samples, 'mikrotik_scrape_collector_success', { collector: 'resource' })).toBe(
          '1',
        );
        expect(
          sampleValue(samples, 'mikrotik_scrape_command_success', {
            collector: 'interfaces',
            command: '/interface/ethernet',
          }),
        ).toBe('0');
        expect(
          sampleValue(samples, 'mikrotik_scrape_command_success', {
            collector: 'interfaces',
            command: '/interface',
          }),
        ).toBe('1');
      }
      const warnings = logs
        .slice(before)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.event === 'routeros_command_failed');
      // Two scrapes, one log line: the second is within the rate limit.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        target: 'partial',
        command: '/interface/ethernet',
        reason: 'trap',
        routerMessage: 'not enough permissions (9)',
      });
      const self = await (await fetch(`${base}/metrics`)).text();
      expect(self).toContain(
        'ispmon_exporter_routeros_command_errors_total{target="partial",command="/interface/ethernet",reason="trap"} 2',
      );
      expect((await promtoolCheck(first.text)).code).toBe(0);
    } finally {
      router.refuseMenu('/interface/ethernet', false);
    }
    const healed = await probe('partial');
    expect(sampleValue(healed.samples, 'mikrotik_interface_speed_bytes', { interface: 'sfp-sfpplus1' })).toBe(
      '1250000000',
    );
  });

  it('reports a total PPP outage as 0 sessions per known profile, over the wire', async () => {
    const router = lab.router('outage');
    const profiles = [...new Set(router.secrets().map((s) => s.profile))];
    const before = (await probe('outage')).samples;
    const total = (samples: ParsedSample[]): number =>
      samples
        .filter((s) => s.name === 'mikrotik_ppp_active_sessions')
        .reduce((sum, s) => sum + Number(s.value), 0);
    expect(total(before)).toBe(8);
    expect(router.disconnectAllPpp(3_600_000)).toBe(8);
    const after = (await probe('outage')).samples;
    expect(router.activeSessions()).toHaveLength(0);
    expect(total(after)).toBe(0);
    for (const profile of profiles)
      expect(sampleValue(after, 'mikrotik_ppp_active_sessions', { service: 'pppoe', profile })).toBe('0');
    // The series that carried the sessions is the one that reads 0 now.
    for (const s of before.filter((x) => x.name === 'mikrotik_ppp_active_sessions'))
      expect(sampleValue(after, 'mikrotik_ppp_active_sessions', s.labels)).toBe('0');
  });

  it('counts each RouterOS command sent exactly once under concurrent scrapes', async () => {
    const read = async (): Promise<number> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const m = /^ispmon_exporter_routeros_requests_total\{target="core-718"\} (\d+)$/m.exec(text);
      return m ? Number(m[1]) : 0;
    };
    // The default module's commands: resource 1, identity 3, health 1, interfaces 2, ppp_active 2,
    // ppp_secrets 1, queues 1, dhcp 1, pools 2, netwatch 1; the detail module adds /queue/simple.
    const perScrape = 15;
    await probe('core-718'); // connection open before counting
    const start = await read();
    const scrapes = 12;
    const results = await Promise.all(
      Array.from({ length: scrapes }, (_, i) =>
        probe('core-718', i % 3 === 0 ? 'routeros_detail' : undefined),
      ),
    );
    for (const r of results) expect(sampleValue(r.samples, 'mikrotik_up')).toBe('1');
    expect((await read()) - start).toBe(scrapes * perScrape + scrapes / 3);
  });

  it('logs in to a pre-6.43 router with the MD5 challenge', async () => {
    const { samples } = await probe('legacy-642');
    expect(sampleValue(samples, 'mikrotik_up')).toBe('1');
    expect(sampleValue(samples, 'mikrotik_ppp_secrets', { profile: 'home-10M', state: 'enabled' })).toBe('2');
  });

  it('decodes comments as UTF-8 where valid and as the configured code page otherwise', async () => {
    const { samples } = await probe('edge-712');
    const comment = (name: string): string | undefined =>
      samples.find((s) => s.name === 'mikrotik_interface_info' && s.labels.interface === name)?.labels
        .comment;
    expect(comment('sfp-sfpplus3')).toBe('Клиент Ромашка');
    expect(comment('sfp-sfpplus4')).toBe('Клиент');
  });

  it('scrapes over API-SSL with certificate verification', async () => {
    const { samples } = await probe('core-718-ssl');
    expect(sampleValue(samples, 'mikrotik_up')).toBe('1');
  });

  it('labels each failure, answers within the timeout, and keeps serving the other targets', async () => {
    const started = performance.now();
    let silentMs = Infinity;
    const [silent, refusing, wrong, garbageResult, healthy] = await Promise.all([
      probe('silent').then((res) => ((silentMs = performance.now() - started), res)),
      probe('refusing'),
      probe('wrong-password'),
      probe('garbage'),
      probe('core-718'),
    ]);
    // ended by its own 700 ms timeout, not the default: a bound far from both, for a loaded machine
    expect(silentMs).toBeGreaterThanOrEqual(700);
    expect(silentMs).toBeLessThan(DEFAULT_TIMEOUT_MS / 2);
    const reason = (r: { samples: ParsedSample[] }): string | undefined =>
      r.samples.find((s) => s.name === 'mikrotik_scrape_error')?.labels.reason;
    expect(
      [silent, refusing, wrong, garbageResult].map((r) => sampleValue(r.samples, 'mikrotik_up')),
    ).toEqual(['0', '0', '0', '0']);
    expect([reason(silent), reason(refusing), reason(wrong), reason(garbageResult)]).toEqual([
      'timeout',
      'refused',
      'auth',
      'protocol',
    ]);
    expect(sampleValue(healthy.samples, 'mikrotik_up')).toBe('1');
    const self = await (await fetch(`${base}/metrics`)).text();
    expect(self).toMatch(
      /ispmon_exporter_device_errors_total\{target="silent",protocol="routeros",reason="timeout"\} [1-9]/,
    );
  });

  it('reports a router that closes the connection mid-reply, then reconnects', async () => {
    lab.router('old-649').closeMidReply();
    const broken = await probe('old-649');
    expect(sampleValue(broken.samples, 'mikrotik_up')).toBe('0');
    await new Promise((r) => setTimeout(r, 600)); // past the first reconnect backoff
    const again = await probe('old-649');
    expect(sampleValue(again.samples, 'mikrotik_up')).toBe('1');
  });

  it('answers an unknown target with 400 naming it', async () => {
    const res = await probe('nope');
    expect(res.status).toBe(400);
    expect(res.text).toContain("unknown target 'nope'");
  });

  it('picks up routers added to a target file without a restart', async () => {
    expect((await probe('added-later')).status).toBe(400);
    const router = lab.router('edge-712');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'targets'), { recursive: true });
    writeFileSync(
      join(dir, 'targets', 'billing.yml'),
      `routers:\n  - { name: added-later, host: 127.0.0.1, port: ${router.port}, username: admin, password: lab-password }\n`,
    );
    // the target files are polled every 100 ms here
    const res = await waitFor('added-later known', async () => {
      const answer = await probe('added-later');
      return answer.status === 200 ? answer : undefined;
    });
    expect(sampleValue(res.samples, 'mikrotik_up')).toBe('1');
  });

  it('reloads the configuration on POST /-/reload and keeps the old one when the new is invalid', async () => {
    const ok = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    const { readFileSync } = await import('node:fs');
    const file = join(dir, 'exporter.yml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('timeout: 700ms', 'timeout: soon'));
    const bad = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/targets\.routers\.4\.timeout: must be a duration/);
    expect(sampleValue((await probe('core-718')).samples, 'mikrotik_up')).toBe('1');
    const self = await (await fetch(`${base}/metrics`)).text();
    expect(self).toContain('ispmon_exporter_config_last_reload_successful 0');
    writeFileSync(file, good);
  });

  it('passes promtool check metrics on /probe and /metrics output', async () => {
    const probeCheck = await promtoolCheck((await probe('core-718', 'routeros_detail')).text);
    expect(probeCheck).toEqual({ code: 0, output: '' });
    const selfCheck = await promtoolCheck(await (await fetch(`${base}/metrics`)).text());
    expect(selfCheck).toEqual({ code: 0, output: '' });
  });

  it('never puts a password into metrics', async () => {
    const all = (await probe('core-718')).text + (await (await fetch(`${base}/metrics`)).text());
    expect(all).not.toContain('lab-password');
  });
});
