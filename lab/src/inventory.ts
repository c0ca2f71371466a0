// Inventory files for a running lab, in the format billing writes for monitoring (@ispmon/inventory),
// under names of their own (exporter/lab.yml, file_sd/routeros-lab.json) so they sit beside billing's
// files in one inventory directory without either writer overwriting the other.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderExporterTargets, routerFileSd, writeIfChanged } from '@ispmon/inventory';
import type { RouterLab } from './routeros/index.js';

/**
 * Writes the exporter target file and the Prometheus file_sd file for the lab's routers. `host` is the
 * address the exporter dials (default: where each router listens; in Compose, the lab service's name).
 */
export function writeInventory(dir: string, lab: RouterLab, site = 'lab', host?: string): void {
  mkdirSync(join(dir, 'exporter'), { recursive: true });
  mkdirSync(join(dir, 'file_sd'), { recursive: true });
  const routers = lab.routers.map((r) => ({
    name: r.name,
    host: host ?? r.host,
    port: r.port,
    username: r.username,
    password: r.password,
    labels: { site },
  }));
  writeIfChanged(
    join(dir, 'exporter', 'lab.yml'),
    renderExporterTargets('the ispmon device lab', { routers }),
    0o600,
  );
  writeIfChanged(join(dir, 'file_sd', 'routeros-lab.json'), routerFileSd(routers));
}
