// The staff API's CRUD paths over HTTP on a real PostgreSQL (Debian's, fsync on): create, get and list
// customers, N requests each at a fixed concurrency, after seeding 10,000 customers.
// Usage: npm run bench:crud -w billing [-- N CONCURRENCY]
// Prints requests/s and CPU per request: this process (billing and the HTTP client share it, process.cpuUsage)
// plus every PostgreSQL process of the test server (utime+stime from /proc/<pid>/stat).
import { startPostgres } from '@ispmon/local-servers';
import { issueToken } from '../dist/tokens.js';
import { postgresCpuSeconds, startBenchRuntime } from './seed.ts';

const requests = Number(process.argv[2] ?? 2_000);
const concurrency = Number(process.argv[3] ?? 8);
const seeded = 10_000;
const pg = await startPostgres();
const runtime = await startBenchRuntime(await pg.createDatabase());
const token = await issueToken(runtime.orm, 'bench', 'admin');
const em = runtime.orm.em.fork();
await em.execute(
  `insert into customers (code, name, email, suspension_exempt) select 'S' || lpad(i::text, 7, '0'), 'Customer ' || i, 'c' || i || '@example.net', i % 50 = 0 from generate_series(1, ?) i`,
  [seeded],
  'run',
);
await em.execute('analyze', [], 'run');

const call = async (method: string, path: string, body?: unknown): Promise<void> => {
  const res = await fetch(`${runtime.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
};

const phase = async (label: string, request: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  const pgBefore = await postgresCpuSeconds(em);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < requests; i = next++) await request(i);
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  const pgAfter = await postgresCpuSeconds(em);
  let pgCpu = 0;
  for (const [pid, s] of pgAfter) pgCpu += s - (pgBefore.get(pid) ?? 0);
  const nodeCpu = (node.user + node.system) / 1e6;
  const ms = (s: number): string => ((s / requests) * 1000).toFixed(2);
  console.log(
    `${label.padEnd(40)} ${(requests / wall).toFixed(0).padStart(5)} req/s, CPU per request ${ms(nodeCpu + pgCpu)} ms (node ${ms(nodeCpu)}, PostgreSQL ${ms(pgCpu)})`,
  );
};

console.log(
  `${requests} requests per phase, concurrency ${concurrency}, ${seeded.toLocaleString('en-US')} customers seeded`,
);
await phase('POST /customers', (i) =>
  call('POST', '/customers', {
    code: `B${i}`,
    name: `Bench ${i}`,
    email: `b${i}@example.net`,
    phone: '+62 811 000',
  }),
);
await phase('GET /customers/{id}', (i) => call('GET', `/customers/${1 + ((i * 7919) % seeded)}`));
await phase('GET /customers?limit=50&offset=…', (i) =>
  call('GET', `/customers?limit=50&offset=${(i * 50) % seeded}`),
);
await phase('GET /customers?suspension_exempt=true', () =>
  call('GET', '/customers?suspension_exempt=true&limit=50'),
);
await runtime.stop(1_000);
await pg.stop();
