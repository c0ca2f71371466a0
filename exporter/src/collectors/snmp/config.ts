// User-declared SNMP modules in the exporter config (`modules.<name>: { type: snmp, … }`) and the
// mapping from a configured SNMP target to a session target. Validated with zod; errors name the path.
import { z } from 'zod';
import { assertValidLabelName, assertValidMetricName } from '../../exposition.js';
import type { SnmpTarget } from '../../snmp/session.js';
import { BUILTIN_SNMP_MODULES } from './modules.js';
import type { SnmpModule } from './types.js';

const oidSchema = z
  .string()
  .regex(/^\.?\d+(\.\d+)+$/, 'must be a numeric OID like 1.3.6.1.2.1.2.2.1.10')
  .transform((o) => o.replace(/^\./, ''));

const nameSchema = z.string().refine((n) => {
  try {
    assertValidMetricName(n);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid Prometheus metric name');

const labelSchema = z.string().refine((n) => {
  try {
    assertValidLabelName(n);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid Prometheus label name');

const metricSchema = z
  .object({
    name: nameSchema,
    oid: oidSchema,
    type: z.enum(['gauge', 'counter']).default('gauge'),
    help: z.string().optional(),
    indexes: z
      .array(
        z
          .object({
            label: labelSchema,
            type: z.enum(['integer', 'ipv4', 'string', 'oid']).default('integer'),
          })
          .strict(),
      )
      .optional(),
    lookups: z.array(z.object({ label: labelSchema, oid: oidSchema }).strict()).optional(),
    scale: z.number().finite().optional(),
    multiply_by: oidSchema.optional(),
  })
  .strict();

export const snmpModuleSchema = z
  .object({
    type: z.literal('snmp'),
    /** Built-in modules run along with this one's metrics: `if_mib`, `system`, `host_resources`. */
    include: z.array(z.string()).default([]),
    max_repetitions: z.number().int().min(1).max(200).optional(),
    metrics: z.array(metricSchema).default([]),
  })
  .strict();

export type SnmpModuleConfig = z.infer<typeof snmpModuleSchema>;

export class SnmpModuleConfigError extends Error {
  override name = 'SnmpModuleConfigError';
}

/**
 * Validates a `type: snmp` module from the config and returns the modules it runs (its includes, then
 * its own metrics as a module of its name). Errors name `modules.<name>.<path>`.
 */
export function parseSnmpModule(name: string, raw: unknown, source = 'config'): SnmpModule[] {
  const result = snmpModuleSchema.safeParse(raw);
  if (!result.success) {
    throw new SnmpModuleConfigError(
      result.error.issues
        .map((i) => `${source}: modules.${name}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`)
        .join('\n'),
    );
  }
  const config = result.data;
  const modules: SnmpModule[] = [];
  for (const [i, included] of config.include.entries()) {
    const builtin = BUILTIN_SNMP_MODULES.get(included);
    if (!builtin)
      throw new SnmpModuleConfigError(
        `${source}: modules.${name}.include.${i}: unknown SNMP module '${included}' (built in: ${[...BUILTIN_SNMP_MODULES.keys()].join(', ')})`,
      );
    modules.push(config.max_repetitions ? { ...builtin, maxRepetitions: config.max_repetitions } : builtin);
  }
  if (config.metrics.length) {
    modules.push({
      name,
      ...(config.max_repetitions ? { maxRepetitions: config.max_repetitions } : {}),
      metrics: config.metrics.map((m) => ({
        name: m.name,
        oid: m.oid,
        type: m.type,
        help: m.help ?? `SNMP ${m.oid} (declared in module ${name}).`,
        ...(m.indexes ? { indexes: m.indexes } : {}),
        ...(m.lookups ? { lookups: m.lookups } : {}),
        ...(m.scale !== undefined ? { scale: m.scale } : {}),
        ...(m.multiply_by ? { multiplyBy: m.multiply_by } : {}),
      })),
    });
  }
  if (modules.length === 0)
    throw new SnmpModuleConfigError(`${source}: modules.${name}: neither include nor metrics`);
  return modules;
}

/**
 * The modules `/probe?module=NAME` runs for an SNMP target: a built-in by name, or a user module from
 * the config's `modules:` (raw, as the config holds it). Undefined if there is no such SNMP module.
 */
export function resolveSnmpModules(
  name: string,
  configured: Record<string, unknown>,
): SnmpModule[] | undefined {
  const raw = configured[name] as { type?: unknown } | undefined;
  if (raw && raw.type === 'snmp') return parseSnmpModule(name, raw);
  const builtin = BUILTIN_SNMP_MODULES.get(name);
  return builtin ? [builtin] : undefined;
}

/** The fields of a configured SNMP target (config/schema.ts `snmpTargetSchema`) this side needs. */
export interface SnmpTargetFields {
  name: string;
  host: string;
  port: number;
  version: '1' | '2c' | '3';
  user?: string | undefined;
  auth_protocol?: 'md5' | 'sha' | 'sha256' | 'sha512' | undefined;
  priv_protocol?: 'des' | 'aes' | 'aes256b' | 'aes256r' | undefined;
  timeout?: number | undefined;
  retries?: number | undefined;
  max_repetitions: number;
}

/** As snmp_exporter: an unanswered request is sent up to three more times. */
export const DEFAULT_SNMP_RETRIES = 3;

/** Builds a session target; secrets come in already resolved (the config loader resolves references). */
export function snmpTargetFromConfig(
  t: SnmpTargetFields,
  secrets: { community?: string | undefined; authKey?: string | undefined; privKey?: string | undefined },
  defaultTimeoutMs: number,
): SnmpTarget {
  return {
    name: t.name,
    host: t.host,
    port: t.port,
    version: t.version,
    maxRepetitions: t.max_repetitions,
    timeoutMs: t.timeout ?? defaultTimeoutMs,
    retries: t.retries ?? DEFAULT_SNMP_RETRIES,
    ...(t.version !== '3' ? { community: secrets.community ?? 'public' } : {}),
    ...(t.version === '3'
      ? {
          v3: {
            user: t.user ?? '',
            ...(t.auth_protocol ? { authProtocol: t.auth_protocol } : {}),
            ...(secrets.authKey ? { authKey: secrets.authKey } : {}),
            ...(t.priv_protocol ? { privProtocol: t.priv_protocol } : {}),
            ...(secrets.privKey ? { privKey: secrets.privKey } : {}),
          },
        }
      : {}),
  };
}
