// Starts the device lab and prints every address, port and credential it serves.
//   node lab/dist/cli.js [--routers N] [--base-port P] [--control-port P] [--tls] [--churn X]
//                        [--seed S] [--inventory DIR] [--json] [--no-snmp] [--probes N]
//                        [--inventory-host H]
// --inventory DIR writes DIR/exporter/lab.yml and DIR/file_sd/routeros-lab.json (billing's format, beside
// billing's own files), so an exporter and Prometheus pointed at DIR scrape the lab at once;
// --inventory-host names the address the exporter dials (Compose: the lab service's name).
import { parseArgs } from 'node:util';
import { writeInventory } from './inventory.js';
import { canCreateProbeTargets, startProbeTargets, type ProbeTargets } from './probes/index.js';
import { startRouterLab } from './routeros/index.js';
import { startSnmpLab, type SnmpLab } from './snmp/index.js';

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
      'inventory-host': { type: 'string' },
      json: { type: 'boolean', default: false },
      host: { type: 'string', default: '127.0.0.1' },
      'no-snmp': { type: 'boolean', default: false },
      probes: { type: 'string', default: '2' },
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
  if (values.inventory) writeInventory(values.inventory, lab, 'lab', values['inventory-host']);
  const snmp: SnmpLab | undefined = values['no-snmp'] ? undefined : await startSnmpLab();
  const probeCount = Number(values.probes);
  const probes: ProbeTargets | undefined =
    probeCount > 0 && canCreateProbeTargets() ? await startProbeTargets({ count: probeCount }) : undefined;
  if (values.json) {
    console.log(
      JSON.stringify({
        control: lab.controlUrl,
        routers: lab.routers.map((r) => r.describe()),
        snmp: snmp?.endpoints ?? [],
        probes: probes?.targets.map((t) => ({ name: t.name, address: t.address, tcpPort: t.tcpPort })) ?? [],
      }),
    );
  } else {
    console.log(`ispmon lab: ${count} RouterOS routers, control API ${lab.controlUrl ?? '(off)'}`);
    for (const r of lab.routers.slice(0, 20)) {
      console.log(
        `  ${r.name}  RouterOS ${r.version}  api ${r.host}:${r.port}${r.tlsPort ? `  api-ssl ${r.host}:${r.tlsPort}` : ''}  user ${r.username} / ${r.password}`,
      );
    }
    if (count > 20) console.log(`  … ${count - 20} more (GET ${lab.controlUrl}/routers lists all)`);
    for (const e of snmp?.endpoints ?? []) {
      console.log(
        `  SNMP ${e.device.padEnd(12)} ${e.agent} udp ${e.host}:${e.port}  v2c community ${e.community}  v3 ${e.v3.user} SHA/${e.v3.authKey} AES/${e.v3.privKey}${e.v3Context ? ` context ${e.v3Context}` : ''}`,
      );
    }
    for (const t of probes?.targets ?? [])
      console.log(`  probe target ${t.name}  icmp ${t.address}  tcp ${t.address}:${t.tcpPort}`);
    if (probeCount > 0 && !probes) console.log('  probe targets: not started (network namespaces need root)');
    if (values.inventory) console.log(`  inventory written to ${values.inventory}`);
  }
  // One stop for any number of signals: a second Ctrl-C waits for the cleanup instead of skipping it.
  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    stopping ??= Promise.allSettled([lab.stop(), snmp?.stop(), probes?.stop()]).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
