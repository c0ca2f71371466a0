import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// What goes into a production build and image, read from the files: each image copies exactly the
// workspaces its service needs at run time, and no service is built from the lab or test code.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readJson = <T>(file: string): T => JSON.parse(readFileSync(join(root, file), 'utf8')) as T;

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const workspaces = readJson<{ workspaces: string[] }>('package.json').workspaces;
const packages = new Map(workspaces.map((w) => [w, readJson<PackageJson>(`${w}/package.json`)]));
const folderOf = new Map([...packages].map(([w, p]) => [p.name, w]));

/** The workspace folders `w` needs at run time: itself and its `@ispmon/*` dependencies, transitively. */
function runtimeClosure(w: string, seen = new Set<string>()): Set<string> {
  if (seen.has(w)) return seen;
  seen.add(w);
  for (const name of Object.keys(packages.get(w)?.dependencies ?? {})) {
    const folder = folderOf.get(name);
    if (folder) runtimeClosure(folder, seen);
  }
  return seen;
}

/** The workspace folders `tsc -b <w>` builds: its tsconfig references, transitively. */
function buildClosure(w: string, seen = new Set<string>()): Set<string> {
  if (seen.has(w)) return seen;
  seen.add(w);
  const config = readJson<{ references?: Array<{ path: string }> }>(`${w}/tsconfig.json`);
  for (const ref of config.references ?? []) buildClosure(resolve('/', w, ref.path).slice(1), seen);
  return seen;
}

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const stages = new Map(
  dockerfile
    .split(/^FROM /m)
    .slice(1)
    .map((text) => [/^\S+ AS (\S+)/.exec(text)?.[1] ?? '', text]),
);

const production = ['exporter', 'alert-router', 'billing'];
const notInProduction = ['lab', 'testkit', 'local-servers', 'demo'];

describe('workspaces in production builds and images', () => {
  it('builds exporter, alert-router and billing without the lab, the local servers or test code', () => {
    for (const w of production) {
      const built = [...buildClosure(w)];
      expect({ w, built: built.filter((b) => notInProduction.includes(b)) }).toEqual({ w, built: [] });
      const needed = [...runtimeClosure(w)].filter((d) => notInProduction.includes(d));
      expect({ w, needed }).toEqual({ w, needed: [] });
    }
  });

  it('runs the lab and the demo without the test harness', () => {
    for (const w of ['lab', 'demo'])
      expect({ w, testkit: runtimeClosure(w).has('testkit') }).toEqual({ w, testkit: false });
  });

  it('installs every workspace in the build stage (npm ci needs each package.json)', () => {
    const build = stages.get('build') ?? '';
    for (const w of workspaces)
      expect({ w, copied: build.includes(`COPY ${w}/package.json ${w}/`) }).toEqual({
        w,
        copied: true,
      });
  });

  it('copies into each service image exactly the workspaces the service needs at run time', () => {
    const checked: string[] = [];
    for (const [stage, text] of stages) {
      const entry = /^CMD \["node", "([a-z-]+)\/dist\//m.exec(text)?.[1];
      const copied = [...text.matchAll(/^COPY --from=build \/app\/([a-z-]+)\/ \1\/$/gm)].map((m) => m[1]);
      if (!entry || !copied.includes(entry)) continue; // notify-console copies one built-ins-only file
      expect({ stage, copied: copied.sort() }).toEqual({ stage, copied: [...runtimeClosure(entry)].sort() });
      checked.push(stage);
    }
    expect(checked.sort()).toEqual(['alert-router', 'billing', 'exporter', 'lab']);
  });
});
