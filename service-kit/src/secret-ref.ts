// Secrets in a configuration file: a literal, or (better) the name of an environment variable or a
// file to read it from, so that the file itself can be reviewed and kept in version control.
import { readFileSync } from 'node:fs';

export type SecretRef = string | { env: string } | { file: string };

/** The secret's value (undefined if none is configured); a missing variable or unreadable file names `where`. */
export function resolveSecret(
  value: SecretRef | undefined,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if ('env' in value) {
    const v = env[value.env];
    if (v === undefined) throw new Error(`${where}: environment variable ${value.env} is not set`);
    return v;
  }
  try {
    return readFileSync(value.file, 'utf8').trim();
  } catch {
    throw new Error(`${where}: cannot read secret file ${value.file}`);
  }
}
