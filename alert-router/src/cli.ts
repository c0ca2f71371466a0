// Token administration: node alert-router/dist/cli.js create-token NAME admin|operator|viewer
// (DATABASE_URL from the environment). Prints the token once; only its hash is stored.
import { openDatabase } from './db/orm.js';
import { createToken, type Role } from './tokens.js';

const [command, name, role] = process.argv.slice(2);
if (command !== 'create-token' || !name || !['admin', 'operator', 'viewer'].includes(role ?? '')) {
  console.error('usage: cli.js create-token NAME admin|operator|viewer');
  process.exit(2);
}
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}
const orm = await openDatabase(url);
console.log(await createToken(orm, name, role as Role));
await orm.close();
