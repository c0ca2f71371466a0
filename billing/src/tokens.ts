// Staff users and their API tokens: random, shown once, stored as SHA-256 hashes.
// Roles: admin (everything, staff and routers) > billing (day-to-day writes) > viewer (read only).
import { createHash, randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';

export type Role = 'admin' | 'billing' | 'viewer';
const RANK: Record<Role, number> = { viewer: 0, billing: 1, admin: 2 };

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function allows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** Creates (or updates) a staff user and issues a token for it. Returns the token (shown once). */
export async function issueToken(
  orm: MikroORM,
  username: string,
  role: Role,
  token = `isb_${randomBytes(24).toString('base64url')}`,
  label = '',
): Promise<string> {
  const em = orm.em.fork();
  const rows = (await em.execute(
    `insert into staff_users (username, display_name, role) values (?, ?, ?)
     on conflict (username) do update set role = excluded.role returning id`,
    [username, username, role],
    'all',
  )) as Array<{ id: string }>;
  await em.execute(
    'insert into api_tokens (token_hash, staff_user_id, label) values (?, ?, ?) on conflict (token_hash) do nothing',
    [hashToken(token), rows[0]?.id, label],
    'run',
  );
  return token;
}

export async function lookupToken(
  orm: MikroORM,
  token: string,
): Promise<{ username: string; role: Role } | undefined> {
  const rows = (await orm.em.fork().execute(
    `update api_tokens t set last_used_at = now() from staff_users u
      where t.token_hash = ? and u.id = t.staff_user_id and u.active
      returning u.username, u.role`,
    [hashToken(token)],
    'all',
  )) as Array<{ username: string; role: Role }>;
  return rows[0];
}
