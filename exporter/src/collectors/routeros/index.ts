import { health } from './health.js';
import { interfaces } from './interfaces.js';
import { dhcp, netwatch, pools } from './network.js';
import { pppActive, pppSecrets } from './ppp.js';
import { queues } from './queues.js';
import { identity, resource } from './system.js';
import type { RouterOsCollector } from './types.js';

/** Every RouterOS collector by name. Adding an area = adding a file and a line here. */
export const ROUTEROS_COLLECTORS: ReadonlyMap<string, RouterOsCollector> = new Map(
  [resource, identity, health, interfaces, pppActive, pppSecrets, queues, dhcp, pools, netwatch].map((c) => [
    c.name,
    c,
  ]),
);

export type { RouterOsCollector, RouterOsModuleOptions, RouterOsCommand } from './types.js';
