// Starts the device lab and prints every address, port and credential it serves.
//   node lab/dist/cli.js [--routers N] [--base-port P] [--control-port P] [--tls] [--churn X]
//                        [--seed S] [--inventory DIR] [--json]
// --inventory DIR writes DIR/exporter/targets.yml and DIR/file_sd/routeros.json (the contract billing
// follows), so an exporter and Prometheus pointed at DIR scrape the lab at once.
import { parseArgs } from 'node:util';
import { writeInventory } from './inventory.js';
import { startRouterLab } from './routeros/index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      routers: { type: 'string', default: '5' },
      'base-port': { type: 'string', default: '0' },
      'control-port': { type: 'string', default: '0' },
      tls: { type: 'boolean', default: false },
      churn: { type: 'string', default: '0.01' },
      seed: { type: 'string', default: '1' },
      inventory: { type: 'string' },
      json: { type: 'boolean', default: false },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const count = Number(values.routers);
  const basePort = Number(values['base-port']);
  const lab = await startRouterLab({
    host: values.host,
    routers: Array.from({ length: count }, (_, i) => ({
      name: `router-${String(i + 1).padStart(4, '0')}`,
      version: ['7.18.2', '7.12.1', '6.49.10', '6.42.12'][i % 4],
      ...(basePort ? { port: basePort + i } : {}),
    })),
    tls: values.tls,
    controlPort: Number(values['control-port']),
    pppChurn: Number(values.churn),
    seed: Number(values.seed),
  });
  if (values.inventory) writeInventory(values.inventory, lab);
  if (values.json) {
    console.log(JSON.stringify({ control: lab.controlUrl, routers: lab.routers.map((r) => r.describe()) }));
  } else {
    console.log(`ispmon lab: ${count} RouterOS routers, control API ${lab.controlUrl ?? '(off)'}`);
    for (const r of lab.routers.slice(0, 20)) {
      console.log(
        `  ${r.name}  RouterOS ${r.version}  api ${r.host}:${r.port}${r.tlsPort ? `  api-ssl ${r.host}:${r.tlsPort}` : ''}  user ${r.username} / ${r.password}`,
      );
    }
    if (count > 20) console.log(`  … ${count - 20} more (GET ${lab.controlUrl}/routers lists all)`);
    if (values.inventory) console.log(`  inventory written to ${values.inventory}`);
  }
  const stop = (): void => void lab.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
