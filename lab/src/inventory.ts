// Inventory files for a running lab, in the format billing writes for monitoring (README, "Contracts"),
// under names of their own (exporter/lab.yml, file_sd/routeros-lab.json) so they sit beside billing's
// files in one inventory directory without either writer overwriting the other.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RouterLab } from './routeros/index.js';

export function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Writes the exporter target file and the Prometheus file_sd file for the lab's routers. `host` is the
 * address the exporter dials (default: where each router listens; in Compose, the lab service's name).
 */
export function writeInventory(dir: string, lab: RouterLab, site = 'lab', host?: string): void {
  mkdirSync(join(dir, 'exporter'), { recursive: true });
  mkdirSync(join(dir, 'file_sd'), { recursive: true });
  const targets = lab.routers
    .map(
      (r) =>
        `  - { name: ${r.name}, host: ${host ?? r.host}, port: ${r.port}, username: ${r.username}, password: ${JSON.stringify(r.password)}, labels: { site: ${site} } }`,
    )
    .join('\n');
  writeAtomically(
    join(dir, 'exporter', 'lab.yml'),
    `# written by the ispmon device lab\nrouters:\n${targets}\n`,
  );
  const sd = lab.routers.map((r) => ({
    targets: [r.name],
    labels: { router: r.name, site, module: 'routeros' },
  }));
  writeAtomically(join(dir, 'file_sd', 'routeros-lab.json'), `${JSON.stringify(sd, null, 2)}\n`);
}
