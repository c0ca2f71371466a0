// Alert-router API tokens (`isr_…`) in the api_tokens table; hashing and the role ladder come from
// service-kit: viewer < operator < admin.
import { hashToken, newToken, RoleLadder } from '@ispmon/service-kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import { q } from './db/sql.js';

export const roles = new RoleLadder(['viewer', 'operator', 'admin'] as const);
export type Role = (typeof roles.roles)[number];

export async function createToken(
  orm: MikroORM,
  name: string,
  role: Role,
  now = new Date(),
  token = newToken('isr_'),
): Promise<string> {
  await q(
    orm.em.fork(),
    'insert into api_tokens (name, role, token_hash, created_at) values (?, ?, ?, ?) on conflict (name) do update set role = excluded.role, token_hash = excluded.token_hash',
    [name, role, hashToken(token), now],
  );
  return token;
}

export async function lookupToken(
  orm: MikroORM,
  token: string,
): Promise<{ name: string; role: Role } | undefined> {
  const rows = await q<{ name: string; role: Role }>(
    orm.em.fork(),
    'update api_tokens set last_used_at = now() where token_hash = ? returning name, role',
    [hashToken(token)],
  );
  return rows[0];
}
