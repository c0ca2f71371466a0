// Token administration: node alert-router/dist/cli.js create-token NAME admin|operator|viewer
// (DATABASE_URL from the environment). Prints the token once; only its hash is stored.
import { openRouterDatabase } from './db/orm.js';
import { createToken, roles } from './tokens.js';

const [command, name, role] = process.argv.slice(2);
if (command !== 'create-token' || !name || !role || !roles.isRole(role)) {
  console.error('usage: cli.js create-token NAME admin|operator|viewer');
  process.exit(2);
}
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}
const orm = await openRouterDatabase(url);
console.log(await createToken(orm, name, role));
await orm.close();
