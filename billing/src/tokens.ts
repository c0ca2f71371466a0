// Staff users and their API tokens (billing's staff_users and api_tokens tables); token making, hashing and
// the role ladder are service-kit's. Roles: admin (everything, staff and routers) > billing (day-to-day
// writes) > viewer (read only).
import type { MikroORM } from '@mikro-orm/postgresql';
import { hashToken, newToken, RoleLadder } from '@ispmon/service-kit';
import { exec, q } from './db/sql.js';

export const roles = new RoleLadder(['viewer', 'billing', 'admin'] as const);
export type Role = (typeof roles.roles)[number];

/** Creates (or updates) a staff user and issues a token for it. Returns the token (shown once). */
export async function issueToken(
  orm: MikroORM,
  username: string,
  role: Role,
  token = newToken('isb_'),
  label = '',
): Promise<string> {
  const em = orm.em.fork();
  const rows = await q<{ id: string }>(
    em,
    `insert into staff_users (username, display_name, role) values (?, ?, ?)
     on conflict (username) do update set role = excluded.role returning id`,
    [username, username, role],
  );
  await exec(
    em,
    'insert into api_tokens (token_hash, staff_user_id, label) values (?, ?, ?) on conflict (token_hash) do nothing',
    [hashToken(token), rows[0]?.id, label],
  );
  return token;
}

export async function lookupToken(
  orm: MikroORM,
  token: string,
): Promise<{ username: string; role: Role } | undefined> {
  const rows = await q<{ username: string; role: Role }>(
    orm.em.fork(),
    `update api_tokens t set last_used_at = now() from staff_users u
      where t.token_hash = ? and u.id = t.staff_user_id and u.active
      returning u.username, u.role`,
    [hashToken(token)],
  );
  return rows[0];
}
