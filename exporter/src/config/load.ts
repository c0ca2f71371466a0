import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ROUTEROS_COLLECTORS } from '../collectors/routeros/index.js';
import { parseSnmpModule, resolveSnmpModules } from '../collectors/snmp/config.js';
import {
  configSchema,
  targetsSchema,
  type ParsedConfig,
  type SecretRef,
  type TargetsConfig,
} from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function formatIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => `${source}: ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n');
}

/** Resolves a secret reference; the error names the reference, never the value. */
export function resolveSecret(ref: SecretRef, where: string, baseDir: string): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined) throw new ConfigError(`${where}: environment variable ${ref.env} is not set`);
    return value;
  }
  const path = isAbsolute(ref.file) ? ref.file : resolve(baseDir, ref.file);
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(
      `${where}: cannot read secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

export interface LoadedConfig extends ParsedConfig {
  /** The directory relative paths are resolved against. */
  baseDir: string;
  /** Targets from the config file itself, before target files are merged. */
  staticTargets: TargetsConfig;
}

export const DEFAULT_MODULES: ParsedConfig['modules'] = {
  routeros: {
    type: 'routeros',
    exclude: [],
    ppp_session_detail: false,
    ppp_session_limit: 1000,
    dynamic_queues: false,
  },
};

function parseYamlText(text: string, source: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${source}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function expandEnv(text: string): string {
  return text.replace(
    /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback: string | undefined) => process.env[name] ?? fallback ?? '',
  );
}

/** Parses and validates a whole configuration document. */
export function parseConfig(text: string, source: string, baseDir: string): LoadedConfig {
  const result = configSchema.safeParse(parseYamlText(text, source));
  if (!result.success) throw new ConfigError(formatIssues(source, result.error));
  const config = result.data;
  config.modules = { ...DEFAULT_MODULES, ...config.modules };
  for (const [name, module] of Object.entries(config.modules)) {
    if (module.type === 'snmp') {
      try {
        parseSnmpModule(name, module, source);
      } catch (err) {
        throw new ConfigError((err as Error).message);
      }
      continue;
    }
    if (module.type !== 'routeros') continue;
    const m = module as { collectors?: string[]; exclude: string[] };
    for (const c of [...(m.collectors ?? []), ...m.exclude]) {
      if (!ROUTEROS_COLLECTORS.has(c)) {
        throw new ConfigError(
          `${source}: modules.${name}.collectors: unknown collector '${c}' (known: ${[...ROUTEROS_COLLECTORS.keys()].join(', ')})`,
        );
      }
    }
  }
  const loaded: LoadedConfig = {
    ...config,
    target_files: config.target_files.map((f) => resolve(baseDir, expandEnv(f))),
    baseDir,
    staticTargets: config.targets,
  };
  validateTargets(loaded.targets, loaded, source);
  return loaded;
}

export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read configuration: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return parseConfig(text, path, dirname(resolve(path)));
}

/** Parses a target file (the `targets:` schema at top level). */
export function parseTargetsFile(text: string, source: string): TargetsConfig {
  const result = targetsSchema.safeParse(parseYamlText(text, source));
  if (!result.success) throw new ConfigError(formatIssues(source, result.error));
  return result.data;
}

export function validateTargets(
  targets: TargetsConfig,
  config: Pick<ParsedConfig, 'modules'>,
  source: string,
): void {
  const seen = new Set<string>();
  const all = [
    ...targets.routers.map((t, i) => ({ t, path: `targets.routers.${i}` })),
    ...targets.snmp.map((t, i) => ({ t, path: `targets.snmp.${i}` })),
    ...targets.probes.map((t, i) => ({ t, path: `targets.probes.${i}` })),
  ];
  for (const { t, path } of all) {
    if (seen.has(t.name)) throw new ConfigError(`${source}: ${path}.name: duplicate target name '${t.name}'`);
    seen.add(t.name);
  }
  for (const [i, r] of targets.routers.entries()) {
    const module = config.modules[r.module];
    if (!module || module.type !== 'routeros')
      throw new ConfigError(`${source}: targets.routers.${i}.module: no routeros module named '${r.module}'`);
  }
  for (const [i, t] of targets.snmp.entries()) {
    if (!resolveSnmpModules(t.module, config.modules as Record<string, unknown>)) {
      throw new ConfigError(
        `${source}: targets.snmp.${i}.module: no SNMP module named '${t.module}' (built in: if_mib, system, host_resources)`,
      );
    }
  }
}

/** Reads every target file; a broken file is reported and skipped (keeps the previous good targets of it). */
export function targetFileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}
