import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for tests that read the project's own configuration files. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
