// Writes grafana/dashboards/*.json from dashboards.ts. Usage: npm run dashboards (or node
// grafana/src/generate.ts [output directory]; tests write to a temporary directory and compare).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboards } from './dashboards.ts';

const outDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');
for (const [name, json] of Object.entries(dashboards))
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
console.log(`wrote ${Object.keys(dashboards).length} dashboards to ${outDir}`);
