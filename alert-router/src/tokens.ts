// API tokens: random, shown once, stored as SHA-256 hashes; roles admin > operator > viewer.
import { createHash, randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';

export type Role = 'admin' | 'operator' | 'viewer';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function allows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export async function createToken(
  orm: MikroORM,
  name: string,
  role: Role,
  now = new Date(),
  token = `isr_${randomBytes(24).toString('base64url')}`,
): Promise<string> {
  await orm.em
    .fork()
    .execute(
      'insert into api_tokens (name, role, token_hash, created_at) values (?, ?, ?, ?) on conflict (name) do update set role = excluded.role, token_hash = excluded.token_hash',
      [name, role, hashToken(token), now],
      'run',
    );
  return token;
}

export async function lookupToken(
  orm: MikroORM,
  token: string,
): Promise<{ name: string; role: Role } | undefined> {
  const rows = (await orm.em
    .fork()
    .execute(
      'update api_tokens set last_used_at = now() where token_hash = ? returning name, role',
      [hashToken(token)],
      'all',
    )) as Array<{ name: string; role: Role }>;
  return rows[0];
}
