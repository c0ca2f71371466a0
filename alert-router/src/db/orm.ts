// The alert router's database: service-kit's openDatabase with the router's entities and migrations.
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '@ispmon/service-kit';
import { entities } from './entities.js';
import { migrationsList } from './migrations.js';

/** Opens the ORM (a pg pool underneath) and, unless told not to, applies pending migrations. */
export function openRouterDatabase(
  url: string,
  o: { migrate?: boolean; poolMax?: number } = {},
): Promise<MikroORM> {
  return openDatabase(url, { entities, migrationsList, ...o });
}
