// Staff API tokens: random, shown once, stored only as SHA-256 hashes; roles ranked on a ladder.
import { createHash, randomBytes } from 'node:crypto';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A fresh token with a service prefix (`isr_`, `isb_`) so a leaked one says where it belongs. */
export function newToken(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

/** Roles from least to most privileged; a role allows everything a lower one does. */
export class RoleLadder<R extends string> {
  private readonly rank: ReadonlyMap<R, number>;

  constructor(readonly roles: readonly R[]) {
    this.rank = new Map(roles.map((role, i) => [role, i]));
  }

  allows(role: R, needed: R): boolean {
    return (this.rank.get(role) ?? -1) >= (this.rank.get(needed) ?? Number.POSITIVE_INFINITY);
  }

  isRole(value: string): value is R {
    return this.rank.has(value as R);
  }
}
