import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { entities } from './entities.js';
import { migrationsList } from './migrations.js';

/** Opens the ORM (a pg pool underneath) and, unless told not to, applies pending migrations. */
export async function openDatabase(url: string, { migrate = true, poolMax = 10 } = {}): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities,
    extensions: [Migrator],
    migrations: {
      migrationsList,
      transactional: true,
      allOrNothing: true,
      tableName: 'mikro_orm_migrations',
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: poolMax },
    debug: false,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
  });
  if (migrate) await orm.migrator.up();
  return orm;
}
