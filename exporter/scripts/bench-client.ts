// The RouterOS client decision, measured: node-routeros 1.6.9 against ispmon's own client on the same
// simulated router, the commands of one scrape (resource, interfaces, PPP active, PPP secrets) sent
// (a) one after another and (b) all at once (pipelined by .tag). Usage: npm run bench:client -w exporter
import { RouterOSAPI } from 'node-routeros';
import { startRouterLab } from '@ispmon/lab';
import { RouterOsClient } from '@ispmon/routeros';

const ROUNDS = Number(process.argv[2] ?? 200);
const lab = await startRouterLab({
  routers: [{ name: 'bench', version: '7.12.1', interfaces: 24, pppSessions: 100 }],
});
const router = lab.router('bench');
const commands = ['/system/resource/print', '/interface/print', '/ppp/active/print', '/ppp/secret/print'];

async function time(label: string, fn: () => Promise<number>): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rows = 0;
  for (let i = 0; i < ROUNDS; i++) rows += await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${label.padEnd(44)} ${(ms / ROUNDS).toFixed(2)} ms/scrape wall, ${((cpu.user + cpu.system) / 1000 / ROUNDS).toFixed(2)} ms/scrape CPU (incl. simulator), ${rows / ROUNDS} rows`,
  );
  return ms / ROUNDS;
}

const theirs = new RouterOSAPI({
  host: '127.0.0.1',
  port: router.port,
  user: 'admin',
  password: 'lab-password',
  timeout: 10,
});
await theirs.connect();
const ours = await RouterOsClient.connect({
  host: '127.0.0.1',
  port: router.port,
  username: 'admin',
  password: 'lab-password',
});

const tSeq = await time('node-routeros, sequential', async () => {
  let n = 0;
  for (const c of commands) n += (await theirs.write(c)).length;
  return n;
});
const tPar = await time('node-routeros, concurrent (Promise.all)', async () =>
  (await Promise.all(commands.map((c) => theirs.write(c)))).reduce((a, r) => a + r.length, 0),
);
const oSeq = await time('ispmon client, sequential', async () => {
  let n = 0;
  for (const c of commands) n += (await ours.command(c)).length;
  return n;
});
const oPar = await time('ispmon client, pipelined (Promise.all)', async () =>
  (await Promise.all(commands.map((c) => ours.command(c)))).reduce((a, r) => a + r.length, 0),
);
console.log(
  `ratio ours/node-routeros: sequential ${(oSeq / tSeq).toFixed(2)}x, concurrent ${(oPar / tPar).toFixed(2)}x (wall per scrape)`,
);

// The 7.18 `!empty` reply: node-routeros throws UNKNOWNREPLY from its socket handler.
const v718 = await startRouterLab({
  routers: [{ name: 'v718', version: '7.18.2', interfaces: 1, pppSessions: 0 }],
});
const crashed = await new Promise<string>((resolve) => {
  const onUncaught = (err: Error): void => resolve(`uncaught ${err.name}: ${err.message}`);
  process.once('uncaughtException', onUncaught);
  const api = new RouterOSAPI({
    host: '127.0.0.1',
    port: v718.router('v718').port,
    user: 'admin',
    password: 'lab-password',
    timeout: 3,
  });
  api
    .connect()
    .then(() => api.write('/ppp/active/print'))
    .then(
      (rows) => resolve(`no crash, ${rows.length} rows`),
      (err: Error) => resolve(`rejected: ${err.message}`),
    )
    .finally(() => process.off('uncaughtException', onUncaught));
});
console.log(`node-routeros on RouterOS 7.18 empty print: ${crashed}`);
const oursEmpty = await RouterOsClient.connect({
  host: '127.0.0.1',
  port: v718.router('v718').port,
  username: 'admin',
  password: 'lab-password',
});
console.log(
  `ispmon client on RouterOS 7.18 empty print: ${(await oursEmpty.command('/ppp/active/print')).length} rows, no error`,
);
oursEmpty.close();
ours.close();
await theirs.close().catch(() => undefined);
await lab.stop();
await v718.stop();
process.exit(0);
