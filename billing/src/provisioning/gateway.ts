// RouterGateway over the RouterOS API, with the project's own client (tagged commands, so one
// connection carries many commands in flight: the pipelining that suspends 1,000 subscribers in
// seconds). Every operation reads the router first and sends only what differs: running it twice
// changes nothing the second time. Passwords never appear in errors or logs.
import { RouterOsClient, RouterOsError, type RouterOsRow } from '@ispmon/exporter';
import type {
  ApplyResult,
  DesiredSecret,
  Drift,
  ProfileSpec,
  RouterEndpoint,
  RouterGateway,
} from './types.js';

const SECRET_FIELDS = [
  '.id',
  'name',
  'password',
  'profile',
  'service',
  'disabled',
  'comment',
  'remote-address',
];

const isTrue = (v: string | undefined): boolean => v === 'true' || v === 'yes';

export class RouterCommandError extends Error {
  constructor(
    readonly router: string,
    readonly command: string,
    readonly subject: string,
    message: string,
  ) {
    super(`router ${router}: ${command} for '${subject}' failed: ${message}`);
    this.name = 'RouterCommandError';
  }
}

export class RouterOsGateway implements RouterGateway {
  private readonly clients = new Map<string, Promise<RouterOsClient>>();
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  /** Commands sent (for benchmarks). */
  commands = 0;

  constructor(o: { maxInFlight?: number; timeoutMs?: number } = {}) {
    this.maxInFlight = o.maxInFlight ?? 64;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  private key(r: RouterEndpoint): string {
    return `${r.name}|${r.host}|${r.port}|${r.username}|${r.tls}`;
  }

  private async client(r: RouterEndpoint): Promise<RouterOsClient> {
    const key = this.key(r);
    const existing = this.clients.get(key);
    if (existing) {
      const c = await existing.catch(() => undefined);
      if (c && !c.closed) return c;
      this.clients.delete(key);
    }
    const connecting = RouterOsClient.connect({
      host: r.host,
      port: r.port,
      username: r.username,
      password: r.password,
      timeoutMs: r.timeoutMs ?? this.timeoutMs,
      ...(r.tls ? { tls: { rejectUnauthorized: false } } : {}),
    });
    this.clients.set(key, connecting);
    try {
      return await connecting;
    } catch (err) {
      this.clients.delete(key);
      throw err;
    }
  }

  /** Runs commands with at most `maxInFlight` outstanding on the connection; reports every failure. */
  private async run(
    router: RouterEndpoint,
    c: RouterOsClient,
    commands: Array<{ path: string; words: string[]; subject: string }>,
  ): Promise<void> {
    let next = 0;
    const errors: Error[] = [];
    const worker = async (): Promise<void> => {
      while (next < commands.length) {
        const cmd = commands[next++];
        if (!cmd) return;
        this.commands += 1;
        try {
          await c.command(cmd.path, cmd.words);
        } catch (err) {
          if (err instanceof RouterOsError && err.reason !== 'trap') throw err; // connection gone: stop
          errors.push(new RouterCommandError(router.name, cmd.path, cmd.subject, (err as Error).message));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxInFlight, commands.length) }, worker));
    if (errors.length) {
      const first = errors[0] as Error;
      throw errors.length === 1 ? first : new Error(`${first.message} (and ${errors.length - 1} more)`);
    }
  }

  private async secrets(c: RouterOsClient): Promise<Map<string, RouterOsRow>> {
    this.commands += 1;
    const rows = await c.print('/ppp/secret', { proplist: SECRET_FIELDS });
    return new Map(rows.map((r) => [r.name ?? '', r]));
  }

  async ensureProfiles(router: RouterEndpoint, profiles: ProfileSpec[]): Promise<void> {
    if (!profiles.length) return;
    const c = await this.client(router);
    this.commands += 1;
    const existing = new Map(
      (await c.print('/ppp/profile', { proplist: ['.id', 'name', 'rate-limit'] })).map((p) => [
        p.name ?? '',
        p,
      ]),
    );
    const commands: Array<{ path: string; words: string[]; subject: string }> = [];
    for (const p of profiles) {
      const have = existing.get(p.name);
      if (!have) {
        commands.push({
          path: '/ppp/profile/add',
          subject: p.name,
          words: [
            `=name=${p.name}`,
            ...(p.rateLimit ? [`=rate-limit=${p.rateLimit}`] : []),
            ...(p.localAddress ? [`=local-address=${p.localAddress}`] : []),
            ...(p.remoteAddress ? [`=remote-address=${p.remoteAddress}`] : []),
            ...(p.addressList ? [`=address-list=${p.addressList}`] : []),
          ],
        });
      } else if (p.rateLimit && (have['rate-limit'] ?? '') !== p.rateLimit) {
        commands.push({
          path: '/ppp/profile/set',
          subject: p.name,
          words: [`=.id=${have['.id']}`, `=rate-limit=${p.rateLimit}`],
        });
      }
    }
    await this.run(router, c, commands);
  }

  async apply(
    router: RouterEndpoint,
    desired: DesiredSecret[],
    kick: ReadonlySet<string>,
  ): Promise<ApplyResult[]> {
    const c = await this.client(router);
    const current = await this.secrets(c);
    const results = new Map<string, ApplyResult>();
    const commands: Array<{ path: string; words: string[]; subject: string }> = [];
    for (const d of desired) {
      const have = current.get(d.name);
      if (!have) {
        commands.push({
          path: '/ppp/secret/add',
          subject: d.name,
          words: [
            `=name=${d.name}`,
            `=password=${d.password}`,
            `=service=${d.service}`,
            `=profile=${d.profile}`,
            `=disabled=${d.disabled ? 'yes' : 'no'}`,
            ...(d.comment ? [`=comment=${d.comment}`] : []),
            ...(d.localAddress ? [`=local-address=${d.localAddress}`] : []),
            ...(d.remoteAddress ? [`=remote-address=${d.remoteAddress}`] : []),
          ],
        });
        results.set(d.name, { name: d.name, change: 'created', sessionsKicked: 0 });
        continue;
      }
      const words: string[] = [];
      if ((have.password ?? '') !== d.password) words.push(`=password=${d.password}`);
      if ((have.profile ?? '') !== d.profile) words.push(`=profile=${d.profile}`);
      if ((have.service ?? '') !== d.service) words.push(`=service=${d.service}`);
      if (d.comment !== undefined && (have.comment ?? '') !== d.comment) words.push(`=comment=${d.comment}`);
      if (d.remoteAddress !== undefined && (have['remote-address'] ?? '') !== d.remoteAddress)
        words.push(`=remote-address=${d.remoteAddress}`);
      if (isTrue(have.disabled) !== d.disabled) words.push(`=disabled=${d.disabled ? 'yes' : 'no'}`);
      if (words.length)
        commands.push({ path: '/ppp/secret/set', subject: d.name, words: [`=.id=${have['.id']}`, ...words] });
      results.set(d.name, {
        name: d.name,
        change: words.length ? 'updated' : 'unchanged',
        sessionsKicked: 0,
      });
    }
    await this.run(router, c, commands);
    if (kick.size) await this.kick(router, c, kick, results);
    return [...results.values()];
  }

  /** Removes the active sessions of these names so a new profile or a disabled secret takes effect now. */
  private async kick(
    router: RouterEndpoint,
    c: RouterOsClient,
    names: ReadonlySet<string>,
    results: Map<string, ApplyResult>,
  ): Promise<void> {
    this.commands += 1;
    const active = await c.print('/ppp/active', { proplist: ['.id', 'name'] });
    const commands = active
      .filter((a) => names.has(a.name ?? ''))
      .map((a) => {
        const r = results.get(a.name ?? '');
        if (r) r.sessionsKicked += 1;
        return { path: '/ppp/active/remove', subject: a.name ?? '', words: [`=.id=${a['.id']}`] };
      });
    await this.run(router, c, commands);
  }

  async remove(router: RouterEndpoint, names: string[]): Promise<ApplyResult[]> {
    const c = await this.client(router);
    const current = await this.secrets(c);
    const results = new Map<string, ApplyResult>();
    const commands: Array<{ path: string; words: string[]; subject: string }> = [];
    for (const name of names) {
      const have = current.get(name);
      results.set(name, { name, change: have ? 'removed' : 'unchanged', sessionsKicked: 0 });
      if (have) commands.push({ path: '/ppp/secret/remove', subject: name, words: [`=.id=${have['.id']}`] });
    }
    await this.run(router, c, commands);
    await this.kick(router, c, new Set(names), results);
    return [...results.values()];
  }

  async diff(router: RouterEndpoint, desired: DesiredSecret[], managedComment?: string): Promise<Drift[]> {
    const c = await this.client(router);
    const current = await this.secrets(c);
    const drift: Drift[] = [];
    const wanted = new Set<string>();
    for (const d of desired) {
      wanted.add(d.name);
      const have = current.get(d.name);
      if (!have) {
        drift.push({ secret: d.name, kind: 'missing_secret', expected: d.profile });
        continue;
      }
      if ((have.profile ?? '') !== d.profile)
        drift.push({
          secret: d.name,
          kind: 'wrong_profile',
          expected: d.profile,
          actual: have.profile ?? '',
        });
      if (isTrue(have.disabled) !== d.disabled)
        drift.push({
          secret: d.name,
          kind: 'wrong_disabled',
          expected: String(d.disabled),
          actual: String(isTrue(have.disabled)),
        });
      if ((have.password ?? '') !== d.password) drift.push({ secret: d.name, kind: 'wrong_password' });
    }
    if (managedComment)
      for (const [name, row] of current)
        if (!wanted.has(name) && (row.comment ?? '').startsWith(managedComment))
          drift.push({ secret: name, kind: 'unknown_secret', actual: row.comment ?? '' });
    return drift;
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}
