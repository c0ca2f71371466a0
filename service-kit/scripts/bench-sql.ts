// One statement carrying a large text value, three ways per round: MikroORM's `em.execute` (the value
// written into the SQL text) and service-kit's `queryRows` (the value bound as a parameter).
//   npm run bench:sql -w service-kit -- [MiB] [rounds]
import { startPostgres } from '@ispmon/local-servers';
import { openDatabase, queryRows } from '../dist/index.js';

const mib = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 3);
const pg = await startPostgres();
const orm = await openDatabase(await pg.createDatabase(), { entities: [], migrationsList: [] });
try {
  await queryRows(orm.em.fork(), 'create table notes (id serial primary key, body text not null)');
  const value = `${"it's ".repeat(Math.ceil((mib * 1024 * 1024) / 5))}`.slice(0, mib * 1024 * 1024);
  const sql = 'insert into notes (body) values (?) returning length(body) as n';
  const ways: Record<string, () => Promise<unknown>> = {
    'em.execute (inlined)': () => orm.em.fork().execute(sql, [value], 'all'),
    'queryRows (bound)': () => queryRows(orm.em.fork(), sql, [value]),
  };
  const load = (await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(`${mib} MiB text value, ${rounds} rounds, load average ${load}`);
  for (let round = 1; round <= rounds; round++)
    for (const [name, statement] of Object.entries(ways)) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      await statement();
      const wall = performance.now() - start;
      const used = process.cpuUsage(cpu);
      console.log(
        `round ${round}  ${name.padEnd(22)} wall ${(wall / 1000).toFixed(2)} s  node CPU ${((used.user + used.system) / 1e6).toFixed(2)} s`,
      );
    }
} finally {
  await orm.close();
  await pg.stop();
}
