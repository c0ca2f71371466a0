import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A server binary the harness needs is not installed; the message names the Debian package. */
export class MissingBinaryError extends Error {
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
  ) {
    super(
      `${binary} not found: install the Debian package '${debianPackage}' ` +
        `(apt-get install -y ${debianPackage}), or run 'bash scripts/setup.sh' which installs every test dependency`,
    );
    this.name = 'MissingBinaryError';
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `name` on PATH or in the extra directories; throws MissingBinaryError naming the package. */
export function findBinary(name: string, debianPackage: string, extraDirs: string[] = []): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new MissingBinaryError(name, debianPackage);
}

/** Debian installs PostgreSQL's server binaries under /usr/lib/postgresql/<major>/bin; take the newest. */
export function postgresBinDir(): string {
  const override = process.env.ISPMON_PG_BIN;
  if (override) {
    if (!isExecutable(join(override, 'postgres')))
      throw new MissingBinaryError(join(override, 'postgres'), 'postgresql');
    return override;
  }
  const root = '/usr/lib/postgresql';
  let majors: number[] = [];
  try {
    majors = readdirSync(root)
      .map(Number)
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => b - a);
  } catch {
    // no Debian PostgreSQL at all
  }
  for (const major of majors) {
    const dir = join(root, String(major), 'bin');
    if (isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'))) return dir;
  }
  throw new MissingBinaryError('initdb/postgres', 'postgresql');
}
