// The alert router's database: service-kit's openDatabase with the router's migrations. No entity is
// mapped: every statement is SQL through db/sql.ts (the README's "Database access" says why).
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '@ispmon/service-kit';
import { migrationsList } from './migrations.js';

/** Opens the ORM (a pg pool underneath) and, unless told not to, applies pending migrations. */
export function openRouterDatabase(
  url: string,
  o: { migrate?: boolean; poolMax?: number } = {},
): Promise<MikroORM> {
  return openDatabase(url, { entities: [], migrationsList, ...o });
}
