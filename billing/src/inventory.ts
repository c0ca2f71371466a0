// Inventory flows to monitoring: routers and client links that staff add or change in billing are
// written as the exporter's target file and Prometheus file_sd files (README, "Contracts"), atomically
// and only when the content changes, so the exporter and Prometheus follow without a restart.
// Router passwords go to 0600 files next to them, referenced as `{ file: … }`, never inline.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  probeFileSd,
  renderExporterTargets,
  routerFileSd,
  writeIfChanged,
  type ProbeTarget,
  type RouterTarget,
} from '@ispmon/inventory';
import { q } from './db/sql.js';
import type { SecretBox } from './secrets.js';

export interface InventoryFiles {
  routers: number;
  probes: number;
  changed: string[];
}

export class InventoryWriter {
  private readonly dir: string;
  private queued: Promise<InventoryFiles> | undefined;
  private again = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly box: SecretBox,
    dir: string,
  ) {
    this.dir = resolve(dir);
  }

  /** Writes now, coalescing bursts: calls made while a write runs share one follow-up write. */
  write(): Promise<InventoryFiles> {
    if (this.queued) {
      this.again = true;
      return this.queued;
    }
    this.queued = (async () => {
      try {
        let files: InventoryFiles;
        do {
          this.again = false;
          files = await this.writeOnce();
        } while (this.again);
        return files;
      } finally {
        this.queued = undefined;
      }
    })();
    return this.queued;
  }

  private async writeOnce(): Promise<InventoryFiles> {
    const em = this.orm.em.fork();
    const routers = await q<{
      name: string;
      host: string;
      api_port: number;
      tls: boolean;
      username: string;
      password_enc: string;
      site: string;
    }>(
      em,
      'select name, host, api_port, tls, username, password_enc, site from routers where monitored order by name',
    );
    const links = await q<{
      code: string;
      probe_host: string;
      probe_protocol: 'icmp' | 'tcp';
      probe_port: number | null;
      customer: string;
      site: string | null;
      router: string | null;
    }>(
      em,
      `select l.code, l.probe_host, l.probe_protocol, l.probe_port, c.code as customer, r.site, r.name as router
         from client_links l join customers c on c.id = l.customer_id left join routers r on r.id = l.router_id
        where l.active and l.probe_host is not null order by l.code`,
    );
    for (const sub of ['exporter', 'file_sd', 'secrets'])
      mkdirSync(join(this.dir, sub), { recursive: true, mode: sub === 'secrets' ? 0o700 : 0o755 });
    const changed: string[] = [];
    const targets: { routers: RouterTarget[]; probes: ProbeTarget[] } = {
      routers: routers.map((r) => {
        const secretFile = join(this.dir, 'secrets', `router-${r.name}.password`);
        if (writeIfChanged(secretFile, this.box.open(r.password_enc), 0o600)) changed.push(secretFile);
        return {
          name: r.name,
          host: r.host,
          port: r.api_port,
          tls: r.tls ? { insecure_skip_verify: true } : false,
          username: r.username,
          password: { file: secretFile },
          labels: r.site ? { site: r.site } : ({} as Record<string, string>),
        };
      }),
      probes: links.map((l) => ({
        name: l.code,
        host: l.probe_host,
        protocol: l.probe_protocol,
        ...(l.probe_port ? { port: l.probe_port } : {}),
        labels: { link: l.code, customer: l.customer },
      })),
    };
    const files: Array<[string, string]> = [
      [
        join(this.dir, 'exporter', 'targets.yml'),
        renderExporterTargets('ispmon billing from its database', targets),
      ],
      [join(this.dir, 'file_sd', 'routeros.json'), routerFileSd(targets.routers)],
      [
        join(this.dir, 'file_sd', 'probes.json'),
        probeFileSd(
          links.map((l) => ({
            name: l.code,
            protocol: l.probe_protocol,
            labels: {
              customer: l.customer,
              ...(l.site ? { site: l.site } : {}),
              ...(l.router ? { router: l.router } : {}),
            },
          })),
        ),
      ],
    ];
    for (const [path, content] of files) if (writeIfChanged(path, content)) changed.push(path);
    return { routers: routers.length, probes: links.length, changed };
  }
}
