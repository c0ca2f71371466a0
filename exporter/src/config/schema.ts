// The exporter's YAML configuration, validated with zod. Errors name the path and the problem; values
// (which may be secrets) never appear in messages.
import { z } from 'zod';

/** A secret: a literal, `{ env: NAME }` or `{ file: /path }`. Resolved at load, never printed. */
export const secretSchema = z.union([
  z.string(),
  z.object({ env: z.string().min(1) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof secretSchema>;

/** Whether TextDecoder (the WHATWG Encoding Standard's labels) can decode this code page. */
export function isKnownEncoding(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

const durationSchema = z
  .union([
    z.number().positive(),
    z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'must be a duration like 500ms, 5s or 1m'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v * 1000;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v) as RegExpExecArray;
    return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  });

const labelsSchema = z
  .record(
    z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*'),
    z.string(),
  )
  .default({});

export const routerTargetSchema = z
  .object({
    name: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).optional(),
    tls: z
      .union([
        z.boolean(),
        z
          .object({
            ca_file: z.string().optional(),
            insecure_skip_verify: z.boolean().default(false),
            server_name: z.string().optional(),
          })
          .strict(),
      ])
      .default(false),
    username: z.string().min(1),
    password: secretSchema,
    module: z.string().default('routeros'),
    timeout: durationSchema.optional(),
    encoding: z
      .string()
      .refine(isKnownEncoding, {
        // A typo here used to pass and then fail most collectors with `protocol` at the first non-UTF-8 byte.
        message:
          'unknown encoding: use a WHATWG encoding label such as windows-1252, windows-1251 or iso-8859-2',
      })
      .default('windows-1252'),
    labels: labelsSchema,
  })
  .strict();

export const snmpTargetSchema = z
  .object({
    name: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(161),
    version: z.enum(['1', '2c', '3']).default('2c'),
    community: secretSchema.optional(),
    user: z.string().optional(),
    auth_protocol: z.enum(['md5', 'sha', 'sha256', 'sha512']).optional(),
    auth_key: secretSchema.optional(),
    priv_protocol: z.enum(['des', 'aes', 'aes256b', 'aes256r']).optional(),
    priv_key: secretSchema.optional(),
    module: z.string().default('if_mib'),
    /** Per SNMP request (as snmp_exporter); the whole scrape is bounded by Prometheus's scrape timeout. */
    timeout: durationSchema.optional(),
    retries: z.number().int().min(0).max(10).default(3),
    max_repetitions: z.number().int().min(1).max(200).default(25),
    labels: labelsSchema,
  })
  .strict();

export const probeTargetSchema = z
  .object({
    name: z.string().min(1),
    host: z.string().min(1),
    protocol: z.enum(['icmp', 'tcp']).default('icmp'),
    port: z.number().int().min(1).max(65535).optional(),
    interval: durationSchema.default(1000),
    timeout: durationSchema.optional(),
    labels: labelsSchema,
  })
  .strict();

export const targetsSchema = z
  .object({
    routers: z.array(routerTargetSchema).default([]),
    snmp: z.array(snmpTargetSchema).default([]),
    probes: z.array(probeTargetSchema).default([]),
  })
  .strict();

export const routerOsModuleSchema = z
  .object({
    type: z.literal('routeros'),
    collectors: z.array(z.string()).optional(),
    exclude: z.array(z.string()).default([]),
    ppp_session_detail: z.boolean().default(false),
    ppp_session_limit: z.number().int().min(0).default(1000),
    dynamic_queues: z.boolean().default(false),
  })
  .strict();

export const configSchema = z
  .object({
    listen: z.string().default('127.0.0.1:9436'),
    default_timeout: durationSchema.default(5000),
    modules: z
      .record(
        z.string(),
        z.union([routerOsModuleSchema, z.object({ type: z.enum(['snmp', 'icmp', 'tcp']) }).passthrough()]),
      )
      .default({}),
    targets: targetsSchema.default({ routers: [], snmp: [], probes: [] }),
    /** YAML files (same schema as `targets:`) read at start and re-read when they change. */
    target_files: z.array(z.string()).default([]),
  })
  .strict();

export type ExporterConfigInput = z.input<typeof configSchema>;
export type RouterTargetConfig = z.infer<typeof routerTargetSchema>;
export type SnmpTargetConfig = z.infer<typeof snmpTargetSchema>;
export type ProbeTargetConfig = z.infer<typeof probeTargetSchema>;
export type TargetsConfig = z.infer<typeof targetsSchema>;
export type RouterOsModuleConfig = z.infer<typeof routerOsModuleSchema>;
export type ParsedConfig = z.infer<typeof configSchema>;
