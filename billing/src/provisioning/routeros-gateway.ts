// RouterGateway over the RouterOS API, with the project's own client and connection pool
// (@ispmon/routeros). One connection per router; commands are tagged, so up to `maxInFlight` of them
// travel at once (the pipelining that suspends 1,000 subscribers in well under a second instead of
// 1,000 round trips).
// Every operation reads the router first and sends only what differs, so running it twice changes
// nothing the second time; a caller that retries after a failure (the sync job, with backoff) is safe.
// Passwords never appear in errors.
import {
  RouterOsError,
  RouterPool,
  type RouterOsRow,
  type RouterSession,
  type RouterTls,
} from '@ispmon/routeros';
import type {
  ApplyResult,
  DesiredSecret,
  Drift,
  ProfileSpec,
  RouterEndpoint,
  RouterGateway,
} from './types.js';
import {
  desiredGarden,
  ENTRY_PROPLIST,
  gardenDrift,
  planGarden,
  planGardenRemoval,
  RULE_PROPLIST,
  type GardenAction,
  type WalledGardenConfig,
  type WalledGardenReport,
} from './walled-garden.js';

const SECRET_PROPLIST = [
  '.id',
  'name',
  'password',
  'profile',
  'disabled',
  'service',
  'comment',
  'local-address',
  'remote-address',
] as const;
const PROFILE_PROPLIST = ['.id', 'name', 'rate-limit', 'local-address', 'remote-address', 'address-list'];
const SESSION_PROPLIST = ['.id', 'name'];
/** Parameters whose values are never written into an error message. */
const SENSITIVE = new Set(['password']);

/** One API command billing sends, with the secret, profile or session it is about (for errors). */
export interface RouterCommand {
  path: string;
  words: string[];
  subject: string;
}

/** A command the router refused (`!trap`): says which router, which command and which secret or profile. */
export class RouterCommandError extends RouterOsError {
  constructor(
    readonly router: string,
    /** The command as sent, values of sensitive parameters masked: `/ppp/secret/set profile=isolir`. */
    readonly command: string,
    readonly subject: string,
    readonly routerMessage: string,
    category?: string,
  ) {
    super('trap', `router ${router}: ${command} for '${subject}' was refused: ${routerMessage}`, category);
    this.name = 'RouterCommandError';
  }
}

/** Several commands of one batch were refused; the others were applied. */
export class RouterBatchError extends RouterOsError {
  constructor(
    readonly router: string,
    readonly failures: readonly RouterCommandError[],
    sent: number,
  ) {
    super(
      'trap',
      `router ${router}: ${failures.length} of ${sent} commands were refused; first: ${failures[0]?.message ?? ''}`,
      failures[0]?.category,
    );
    this.name = 'RouterBatchError';
  }
}

export interface RouterOsGatewayOptions {
  /** Commands in flight per connection; 1 turns pipelining off. Default 50. */
  maxInFlight?: number;
  /** Connect, login and per-command timeout when the endpoint names none. Default 10 s. */
  timeoutMs?: number;
  /**
   * Up to this many names, secrets and sessions are read with `?name=` queries (25 names a print);
   * above it the whole table is read once and filtered here. Default 100.
   */
  queryByNameUpTo?: number;
  /** TLS settings for API-SSL endpoints. Default: no certificate check (RouterOS ships self-signed ones). */
  tls?: RouterTls;
  /** The walled garden to keep for isolated subscribers (walled-garden.ts); none when undefined. */
  walledGarden?: WalledGardenConfig;
}

const isTrue = (v: string | undefined): boolean => v === 'true' || v === 'yes';
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const NAMES_PER_QUERY = 25;

function assertUnique(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`${what}: '${n}' appears more than once`);
    seen.add(n);
  }
}

function byName(rows: readonly RouterOsRow[]): Map<string, RouterOsRow> {
  const map = new Map<string, RouterOsRow>();
  for (const r of rows) if (r.name !== undefined && !map.has(r.name)) map.set(r.name, r);
  return map;
}

/**
 * Pure: the commands that make the router's secrets (`current`, by name) match `desired`, and what each
 * will change. Optional fields left undefined in `desired` (comment, addresses) are not managed. A
 * password the router does not print (an API user without the `sensitive` policy) is left alone.
 */
export function planSecretCommands(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, RouterOsRow>,
): { commands: RouterCommand[]; results: ApplyResult[] } {
  const commands: RouterCommand[] = [];
  const results: ApplyResult[] = [];
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
          `=disabled=${yesNo(d.disabled)}`,
          ...(d.comment !== undefined ? [`=comment=${d.comment}`] : []),
          ...(d.localAddress !== undefined ? [`=local-address=${d.localAddress}`] : []),
          ...(d.remoteAddress !== undefined ? [`=remote-address=${d.remoteAddress}`] : []),
        ],
      });
      results.push({ name: d.name, change: 'created', sessionsKicked: 0 });
      continue;
    }
    const words: string[] = [];
    const differs = (field: string, want: string | undefined): void => {
      if (want !== undefined && (have[field] ?? '') !== want) words.push(`=${field}=${want}`);
    };
    if (have.password !== undefined) differs('password', d.password);
    differs('service', d.service);
    differs('profile', d.profile);
    differs('comment', d.comment);
    differs('local-address', d.localAddress);
    differs('remote-address', d.remoteAddress);
    if (isTrue(have.disabled) !== d.disabled) words.push(`=disabled=${yesNo(d.disabled)}`);
    if (words.length)
      commands.push({
        path: '/ppp/secret/set',
        subject: d.name,
        words: [`=.id=${have['.id'] ?? d.name}`, ...words],
      });
    results.push({ name: d.name, change: words.length ? 'updated' : 'unchanged', sessionsKicked: 0 });
  }
  return { commands, results };
}

/** Pure: the commands that create missing profiles and bring the named settings of existing ones in line. */
export function planProfileCommands(
  specs: readonly ProfileSpec[],
  current: ReadonlyMap<string, RouterOsRow>,
): RouterCommand[] {
  const commands: RouterCommand[] = [];
  for (const p of specs) {
    const settings: Array<[string, string | undefined]> = [
      ['rate-limit', p.rateLimit],
      ['local-address', p.localAddress],
      ['remote-address', p.remoteAddress],
      ['address-list', p.addressList],
    ];
    const have = current.get(p.name);
    const words = settings
      .filter(([field, want]) => want !== undefined && (!have || (have[field] ?? '') !== want))
      .map(([field, want]) => `=${field}=${want}`);
    if (!have)
      commands.push({ path: '/ppp/profile/add', subject: p.name, words: [`=name=${p.name}`, ...words] });
    else if (words.length)
      commands.push({
        path: '/ppp/profile/set',
        subject: p.name,
        words: [`=.id=${have['.id'] ?? p.name}`, ...words],
      });
  }
  return commands;
}

/**
 * Pure: how the router's secrets differ from `desired`. With `managedComment`, `current` must hold
 * every secret of the router: those whose comment starts with it and that nobody wants are reported
 * as 'unknown_secret'. Passwords are compared, never reported.
 */
export function secretDrift(
  desired: readonly DesiredSecret[],
  current: ReadonlyMap<string, RouterOsRow>,
  managedComment?: string,
): Drift[] {
  const drift: Drift[] = [];
  for (const d of desired) {
    const have = current.get(d.name);
    if (!have) {
      drift.push({ secret: d.name, kind: 'missing_secret', expected: d.profile });
      continue;
    }
    if ((have.profile ?? '') !== d.profile)
      drift.push({ secret: d.name, kind: 'wrong_profile', expected: d.profile, actual: have.profile ?? '' });
    if (isTrue(have.disabled) !== d.disabled)
      drift.push({
        secret: d.name,
        kind: 'wrong_disabled',
        expected: String(d.disabled),
        actual: String(isTrue(have.disabled)),
      });
    if (have.password !== undefined && have.password !== d.password)
      drift.push({ secret: d.name, kind: 'wrong_password' });
  }
  if (managedComment) {
    const wanted = new Set(desired.map((d) => d.name));
    for (const [name, row] of current)
      if (!wanted.has(name) && (row.comment ?? '').startsWith(managedComment))
        drift.push({ secret: name, kind: 'unknown_secret', actual: row.comment ?? '' });
  }
  return drift;
}

/** `/ppp/secret/set profile=isolir password=***`: a command as it may appear in an error. */
export function describeCommand(command: Pick<RouterCommand, 'path' | 'words'>): string {
  const shown = command.words
    .filter((w) => !w.startsWith('=.id='))
    .map((w) => {
      const eq = w.indexOf('=', 1);
      const field = eq < 0 ? w.slice(1) : w.slice(1, eq);
      return SENSITIVE.has(field) ? `${field}=***` : w.slice(1);
    });
  return [command.path, ...shown].join(' ');
}

/** Values of sensitive parameters in `words`, to be masked in anything the router says back. */
function sensitiveValues(words: readonly string[]): string[] {
  const values: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=', 1);
    if (eq > 0 && SENSITIVE.has(w.slice(1, eq)) && eq + 1 < w.length) values.push(w.slice(eq + 1));
  }
  return values;
}

export class RouterOsGateway implements RouterGateway {
  private readonly pool: RouterPool;
  private readonly timeoutMs: number;
  private readonly queryByNameUpTo: number;
  private readonly tls: RouterTls;
  private readonly garden: WalledGardenConfig | undefined;
  /** Commands sent to routers since this gateway was made (logins not counted). */
  commandsSent = 0;

  constructor(options: RouterOsGatewayOptions = {}) {
    // No reconnect backoff here: a failed connect is thrown to the caller (the sync job backs off).
    this.pool = new RouterPool({ maxInFlight: options.maxInFlight ?? 50, reconnectBackoff: false });
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.queryByNameUpTo = options.queryByNameUpTo ?? 100;
    this.tls = options.tls ?? { insecureSkipVerify: true };
    this.garden = options.walledGarden;
  }

  async ensureProfiles(router: RouterEndpoint, profiles: ProfileSpec[]): Promise<void> {
    if (profiles.length === 0) return;
    assertUnique(
      profiles.map((p) => p.name),
      'ensureProfiles',
    );
    await this.withConnection(router, async (session) => {
      const current = byName(await this.send(session, '/ppp/profile/print', [proplist(PROFILE_PROPLIST)]));
      const commands = planProfileCommands(profiles, current);
      raiseRefusals(router, commands, await this.run(session, commands));
    });
  }

  async apply(
    router: RouterEndpoint,
    secrets: DesiredSecret[],
    kick: ReadonlySet<string>,
  ): Promise<ApplyResult[]> {
    assertUnique(
      secrets.map((s) => s.name),
      'apply',
    );
    if (secrets.length === 0 && kick.size === 0) return [];
    return this.withConnection(router, async (session) => {
      const current = byName(
        await this.readByName(
          session,
          '/ppp/secret',
          SECRET_PROPLIST,
          secrets.map((s) => s.name),
        ),
      );
      const { commands, results } = planSecretCommands(secrets, current);
      raiseRefusals(router, commands, await this.run(session, commands));
      // Sessions go only once every secret holds its new state: a session redials onto what it finds.
      if (kick.size) await this.kick(router, session, [...kick], results);
      return results;
    });
  }

  async remove(router: RouterEndpoint, names: string[]): Promise<ApplyResult[]> {
    assertUnique(names, 'remove');
    if (names.length === 0) return [];
    return this.withConnection(router, async (session) => {
      const current = byName(await this.readByName(session, '/ppp/secret', ['.id', 'name'], names));
      const results = names.map((name): ApplyResult => ({
        name,
        change: current.has(name) ? 'removed' : 'unchanged',
        sessionsKicked: 0,
      }));
      const commands = names.flatMap((name): RouterCommand[] => {
        const id = current.get(name)?.['.id'];
        return id === undefined ? [] : [{ path: '/ppp/secret/remove', subject: name, words: [`=.id=${id}`] }];
      });
      // A removal that meets "no such item" raced with someone else removing it: the goal holds.
      raiseRefusals(router, commands, await this.run(session, commands), isGone);
      // RouterOS keeps a session whose secret was removed; with the secret gone it cannot redial.
      await this.kick(router, session, names, results);
      return results;
    });
  }

  async diff(router: RouterEndpoint, desired: DesiredSecret[], managedComment?: string): Promise<Drift[]> {
    assertUnique(
      desired.map((s) => s.name),
      'diff',
    );
    return this.withConnection(router, async (session) => {
      // Finding secrets nobody wants needs the whole table; otherwise only the desired names.
      const rows = managedComment
        ? await this.send(session, '/ppp/secret/print', [proplist(SECRET_PROPLIST)])
        : await this.readByName(
            session,
            '/ppp/secret',
            SECRET_PROPLIST,
            desired.map((d) => d.name),
          );
      return secretDrift(desired, byName(rows), managedComment);
    });
  }

  async walledGarden(router: RouterEndpoint, action: GardenAction): Promise<WalledGardenReport> {
    const want = desiredGarden(this.garden);
    if (action === 'apply' && !this.garden)
      return { configured: false, drift: [], commandsSent: 0, desired: want };
    return this.withConnection(router, async (session) => {
      const read = (path: string, fields: readonly string[]): Promise<RouterOsRow[]> =>
        this.send(session, `${path}/print`, [proplist(fields)]);
      const [nat, filter, addressList] = await Promise.all([
        read('/ip/firewall/nat', RULE_PROPLIST),
        read('/ip/firewall/filter', RULE_PROPLIST),
        read('/ip/firewall/address-list', ENTRY_PROPLIST),
      ]);
      const have = { nat, filter, addressList };
      const commands =
        action === 'apply' ? planGarden(want, have) : action === 'remove' ? planGardenRemoval(have) : [];
      // One at a time: where an added rule lands depends on the commands before it.
      for (const c of commands)
        raiseRefusals(
          router,
          [c],
          await this.run(session, [c]),
          (e) => c.path.endsWith('/remove') && isGone(e),
        );
      return {
        configured: this.garden !== undefined,
        drift: gardenDrift(want, have),
        commandsSent: commands.length,
        desired: want,
      };
    });
  }

  /** Names of the PPP sessions holding `address` now: who a pool address belongs to (the portal asks). */
  async sessionsAt(router: RouterEndpoint, address: string): Promise<string[]> {
    return this.withConnection(router, async (session) => {
      const rows = await this.send(session, '/ppp/active/print', [
        proplist(['name', 'address']),
        `?address=${address}`,
      ]);
      return rows.flatMap((r) => (r.address === address && r.name ? [r.name] : []));
    });
  }

  async close(): Promise<void> {
    await this.pool.closeAll();
  }

  /**
   * Runs `operation` on the router's connection. A connection that was open before and turns out to be
   * dead (the router rebooted, a NAT forgot it) is dialled again and the operation run once more: every
   * operation reads before it writes, so a second run only finishes what the first began. Timeouts and
   * failures to connect are thrown as they are, for the caller's backoff.
   */
  private async withConnection<T>(
    router: RouterEndpoint,
    operation: (session: RouterSession) => Promise<T>,
  ): Promise<T> {
    const endpoint = {
      name: router.name,
      host: router.host,
      port: router.port,
      username: router.username,
      password: router.password,
      timeoutMs: router.timeoutMs ?? this.timeoutMs,
      tls: router.tls ? this.tls : (false as const),
    };
    const session = await this.pool.session(endpoint);
    try {
      return await operation(session);
    } catch (err) {
      if (!(session.reused && err instanceof RouterOsError && err.reason === 'closed')) throw err;
      session.discard();
      return operation(await this.pool.session(endpoint));
    }
  }

  private send(session: RouterSession, path: string, words: readonly string[]): Promise<RouterOsRow[]> {
    this.commandsSent += 1;
    return session.command(path, words);
  }

  /**
   * Sends every command (pipelined up to the pool's in-flight bound) and returns, per command, the router's
   * refusal or undefined. A lost connection or a timeout is thrown: nothing after it can be trusted.
   */
  private async run(
    session: RouterSession,
    commands: readonly RouterCommand[],
  ): Promise<Array<RouterOsError | undefined>> {
    const settled = await Promise.allSettled(commands.map((c) => this.send(session, c.path, c.words)));
    const outcomes: Array<RouterOsError | undefined> = [];
    for (const s of settled) {
      if (s.status === 'fulfilled') {
        outcomes.push(undefined);
        continue;
      }
      const err: unknown = s.reason;
      if (err instanceof RouterOsError && err.reason === 'trap') outcomes.push(err);
      else throw err;
    }
    return outcomes;
  }

  /** Rows of `path` for these names: `?name=` queries for a few, one read of the whole table for many. */
  private async readByName(
    session: RouterSession,
    path: string,
    fields: readonly string[],
    names: readonly string[],
  ): Promise<RouterOsRow[]> {
    if (names.length === 0) return [];
    const wanted = new Set(names);
    if (names.length > this.queryByNameUpTo) {
      const rows = await this.send(session, `${path}/print`, [proplist(fields)]);
      return rows.filter((r) => wanted.has(r.name ?? ''));
    }
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += NAMES_PER_QUERY) batches.push(names.slice(i, i + NAMES_PER_QUERY));
    const replies = await Promise.all(
      batches.map((batch) =>
        this.send(session, `${path}/print`, [
          proplist(fields),
          ...batch.map((n) => `?name=${n}`),
          ...(batch.length > 1 ? [`?#${'|'.repeat(batch.length - 1)}`] : []),
        ]),
      ),
    );
    return replies.flat().filter((r) => wanted.has(r.name ?? ''));
  }

  /** Removes the active sessions of these names so a new profile or a disabled secret takes effect now. */
  private async kick(
    router: RouterEndpoint,
    session: RouterSession,
    names: readonly string[],
    results: readonly ApplyResult[],
  ): Promise<void> {
    const sessions = await this.readByName(session, '/ppp/active', SESSION_PROPLIST, names);
    const commands = sessions.flatMap((s): RouterCommand[] =>
      s['.id'] === undefined || s.name === undefined
        ? []
        : [{ path: '/ppp/active/remove', subject: s.name, words: [`=.id=${s['.id']}`] }],
    );
    const outcomes = await this.run(session, commands);
    // "no such item": the session ended on its own between the print and the remove; it is gone all the same.
    raiseRefusals(router, commands, outcomes, isGone);
    const byResult = new Map(results.map((r) => [r.name, r]));
    commands.forEach((c, i) => {
      const result = byResult.get(c.subject);
      if (result && outcomes[i] === undefined) result.sessionsKicked += 1;
    });
  }
}

function proplist(fields: readonly string[]): string {
  return `=.proplist=${fields.join(',')}`;
}

function isGone(err: RouterOsError): boolean {
  return err.message === 'no such item';
}

/** Throws the router's refusals (all but the tolerated ones), each naming its command and subject. */
function raiseRefusals(
  router: RouterEndpoint,
  commands: readonly RouterCommand[],
  outcomes: ReadonlyArray<RouterOsError | undefined>,
  tolerated: (err: RouterOsError) => boolean = () => false,
): void {
  const failures: RouterCommandError[] = [];
  commands.forEach((command, i) => {
    const err = outcomes[i];
    if (!err || tolerated(err)) return;
    let message = err.message;
    for (const secret of [...sensitiveValues(command.words), router.password])
      if (secret) message = message.split(secret).join('***');
    failures.push(
      new RouterCommandError(router.name, describeCommand(command), command.subject, message, err.category),
    );
  });
  const [first] = failures;
  if (!first) return;
  throw failures.length === 1 ? first : new RouterBatchError(router.name, failures, commands.length);
}
