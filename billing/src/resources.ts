// Plain CRUD resources of the staff API (customers, plans, routers, client links), described once as
// tables of fields. API field names are the column names (snake_case), so what staff send, what the
// API answers, what Grafana reads and what the audit log names are the same words.
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApiError, audit, conflictFrom, notFound, q, tx, type Em } from './db/sql.js';
import type { SecretBox } from './secrets.js';

export const moneyIdr = z
  .union([
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    z.string().regex(/^\d{1,18}$/, 'whole rupiah as digits'),
  ])
  .transform((v) => BigInt(v));

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Jakarta');

export const creditPolicySchema = z.strictObject({
  tiers: z
    .array(
      z.strictObject({
        below_availability_percent: z.number().gt(0).max(100),
        credit_percent: z.number().min(0).max(100),
      }),
    )
    .max(20),
  cap_percent: z.number().min(0).max(100),
});

interface Field {
  schema: z.ZodType;
  required?: boolean;
  /** Stored sealed in `<name>_enc`, never returned. */
  secret?: boolean;
  money?: boolean;
  json?: boolean;
  /** A text[] column (bound as a PostgreSQL array literal: MikroORM expands JS arrays into lists). */
  array?: boolean;
}

export interface ResourceSpec {
  name: string; // singular, for messages and the audit log
  table: string;
  fields: Record<string, Field>;
  filters: string[];
  search: string[];
}

const text = (max = 200) => z.string().trim().min(1, 'must not be empty').max(max);
const nullableText = (max = 500) => z.string().trim().max(max).nullable();

export const customerSpec: ResourceSpec = {
  name: 'customer',
  table: 'customers',
  fields: {
    code: {
      schema: text(40).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
      required: true,
    },
    name: { schema: text(), required: true },
    email: { schema: z.email().nullable() },
    phone: {
      schema: z
        .string()
        .regex(/^\+?[0-9 -]{6,20}$/, 'a phone number')
        .nullable(),
    },
    address: { schema: nullableText() },
    suspension_exempt: { schema: z.boolean() },
    notes: { schema: z.string().max(4000) },
  },
  filters: ['code', 'suspension_exempt'],
  search: ['code', 'name', 'email', 'phone'],
};

export const planSpec: ResourceSpec = {
  name: 'plan',
  table: 'plans',
  fields: {
    code: { schema: text(40), required: true },
    name: { schema: text(), required: true },
    kind: { schema: z.enum(['pppoe', 'hotspot', 'static']), required: true },
    rate_limit: {
      schema: z.string().regex(/^\d+[kKmMgG]?\/\d+[kKmMgG]?$/, "RouterOS rate limit like '10M/10M'"),
      required: true,
    },
    burst: { schema: nullableText(100) },
    price_idr: { schema: moneyIdr, required: true, money: true },
    validity_days: { schema: z.number().int().min(1).max(3660), required: true },
    profile: { schema: text(64), required: true },
    isolation: { schema: z.enum(['profile', 'disable']) },
    isolation_profile: { schema: z.string().trim().min(1).max(64).nullable() },
    active: { schema: z.boolean() },
  },
  filters: ['kind', 'active', 'code'],
  search: ['code', 'name', 'profile'],
};

export const routerSpec: ResourceSpec = {
  name: 'router',
  table: 'routers',
  fields: {
    name: {
      schema: text(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
      required: true,
    },
    host: { schema: text(255), required: true },
    api_port: { schema: z.number().int().min(1).max(65535) },
    tls: { schema: z.boolean() },
    username: { schema: text(64), required: true },
    password: { schema: z.string().min(1).max(200), required: true, secret: true },
    site: { schema: z.string().max(64) },
    isolation_profile: { schema: text(64) },
    isolation_rate_limit: {
      schema: z.string().regex(/^\d+[kKmMgG]?\/\d+[kKmMgG]?$/, "RouterOS rate limit like '256k/256k'"),
    },
    monitored: { schema: z.boolean() },
  },
  filters: ['site', 'name', 'monitored'],
  search: ['name', 'host', 'site'],
};

export const linkSpec: ResourceSpec = {
  name: 'client link',
  table: 'client_links',
  fields: {
    code: {
      schema: text(40).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
      required: true,
    },
    customer_id: { schema: z.number().int().positive(), required: true },
    name: { schema: text(), required: true },
    router_id: { schema: z.number().int().positive().nullable() },
    interface: { schema: z.string().max(64).nullable() },
    probe_host: { schema: z.string().max(255).nullable() },
    probe_protocol: { schema: z.enum(['icmp', 'tcp']) },
    probe_port: { schema: z.number().int().min(1).max(65535).nullable() },
    bandwidth: { schema: nullableText(40) },
    service_address: { schema: nullableText() },
    availability_target_percent: { schema: z.number().gt(0).max(100), required: true },
    latency_target_ms: { schema: z.number().positive().max(100000).nullable() },
    loss_target_percent: { schema: z.number().min(0).max(100).nullable() },
    monthly_fee_idr: { schema: moneyIdr, required: true, money: true },
    credit_policy: { schema: creditPolicySchema, required: true, json: true },
    contacts: { schema: z.array(z.email()).max(20), array: true },
    time_zone: { schema: timeZone },
    no_data_policy: { schema: z.enum(['down', 'exclude']) },
    active: { schema: z.boolean() },
  },
  filters: ['customer_id', 'router_id', 'active', 'code'],
  search: ['code', 'name'],
};

export const pageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  q: z.string().max(100).optional(),
});

/** `where` clauses for exact-match filters given in the query string, with their parameters. */
export function exactFilters(
  query: Record<string, unknown>,
  names: readonly string[],
  prefix = '',
): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const f of names) {
    const v = query[f];
    if (typeof v === 'string' && v !== '') {
      where.push(`${prefix}${f}::text = ?`);
      params.push(v);
    }
  }
  return { where, params };
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** Formats a zod error as "field: reason" for the first problem. */
export function describeZod(err: z.ZodError): { message: string; field: string } {
  const issue = err.issues[0];
  const field = issue?.path.join('.') || '(body)';
  return { message: `${field}: ${issue?.message ?? 'invalid'}`, field };
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const d = describeZod(r.error);
    throw new ApiError(400, d.message, d.field);
  }
  return r.data;
}

/** Row from PostgreSQL → API JSON: bigint ids and money as JSON integers (exact below 2^53), no secrets. */
/** PostgreSQL's text form of timestamptz ("2026-06-06 23:01:00.5+07"), which raw queries return. */
const PG_TIMESTAMPTZ = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(?::?(\d\d))?$/;

/** Answers carry RFC 3339 date-times (as the OpenAPI document says), whatever the driver returned. */
function dateTime(v: string): string | undefined {
  const m = PG_TIMESTAMPTZ.exec(v);
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function present(
  spec: ResourceSpec | undefined,
  row: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.endsWith('_enc')) continue;
    if (
      v !== null &&
      (k === 'id' || k.endsWith('_id') || k.endsWith('_idr')) &&
      typeof v === 'string' &&
      /^-?\d+$/.test(v)
    )
      out[k] = Number(v);
    else if (v !== null && spec && typeof v === 'string' && /_percent$|_ms$/.test(k)) out[k] = Number(v);
    else if (v instanceof Date) out[k] = v.toISOString();
    else if (Buffer.isBuffer(v))
      out[k] = v.toString('base64'); // bytea, e.g. a notification's exact bytes
    else out[k] = (typeof v === 'string' && dateTime(v)) || v;
  }
  return out;
}

export class ResourceStore {
  constructor(
    private readonly orm: MikroORM,
    private readonly box: SecretBox,
    /** Called after a committed change of a resource (inventory files follow routers and links). */
    private readonly afterChange: (spec: ResourceSpec) => Promise<void> = async () => undefined,
  ) {}

  private createSchema(spec: ResourceSpec): z.ZodType<Record<string, unknown>> {
    const shape: Record<string, z.ZodType> = {};
    for (const [name, f] of Object.entries(spec.fields))
      shape[name] = f.required ? f.schema : f.schema.optional();
    return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
  }

  private updateSchema(spec: ResourceSpec): z.ZodType<Record<string, unknown>> {
    const shape: Record<string, z.ZodType> = {};
    for (const [name, f] of Object.entries(spec.fields)) shape[name] = f.schema.optional();
    return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
  }

  private columns(spec: ResourceSpec, values: Record<string, unknown>): Array<[string, unknown, string]> {
    return Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => {
        const f = spec.fields[k];
        if (f?.secret) return [`${k}_enc`, this.box.seal(String(v)), '?'];
        if (f?.json) return [k, JSON.stringify(v), '?::jsonb'];
        if (f?.array)
          return [
            k,
            `{${(v as string[]).map((x) => `"${x.replace(/["\\]/g, '\\$&')}"`).join(',')}}`,
            '?::text[]',
          ];
        if (typeof v === 'bigint') return [k, v.toString(), '?'];
        return [k, v, '?'];
      });
  }

  async list(spec: ResourceSpec, query: Record<string, unknown>): Promise<Page<Record<string, unknown>>> {
    const page = parseBody(pageSchema, query);
    const { where, params } = exactFilters(query, spec.filters);
    if (page.q) {
      where.push(`(${spec.search.map((c) => `${c} ilike ?`).join(' or ')})`);
      for (let i = 0; i < spec.search.length; i++) params.push(`%${page.q.replace(/[%_\\]/g, '\\$&')}%`);
    }
    const clause = where.length ? `where ${where.join(' and ')}` : '';
    const em = this.orm.em.fork();
    const rows = await q<Record<string, unknown> & { total: string }>(
      em,
      `select *, count(*) over () as total from ${spec.table} ${clause} order by id limit ? offset ?`,
      [...params, page.limit, page.offset],
    );
    let total = Number(rows[0]?.total ?? 0);
    if (rows.length === 0 && page.offset > 0)
      total = Number(
        (await q<{ n: string }>(em, `select count(*) as n from ${spec.table} ${clause}`, params))[0]?.n ?? 0,
      );
    return {
      items: rows.map(({ total: _t, ...r }) => present(spec, r)),
      total,
      limit: page.limit,
      offset: page.offset,
    };
  }

  async get(spec: ResourceSpec, id: string): Promise<Record<string, unknown>> {
    if (!/^\d{1,18}$/.test(id)) throw new ApiError(400, `id: must be a positive integer`, 'id');
    const row = (
      await q<Record<string, unknown>>(this.orm.em.fork(), `select * from ${spec.table} where id = ?`, [id])
    )[0];
    if (!row) throw notFound(spec.name, id);
    return present(spec, row);
  }

  async create(
    spec: ResourceSpec,
    body: unknown,
    actor: string,
    now: Date,
  ): Promise<Record<string, unknown>> {
    const values = parseBody(this.createSchema(spec), body);
    const cols = this.columns(spec, values);
    const row = await this.run(async (em) => {
      const [created] = await q<Record<string, unknown>>(
        em,
        `insert into ${spec.table} (${cols.map((c) => c[0]).join(', ')}) values (${cols.map((c) => c[2]).join(', ')}) returning *`,
        cols.map((c) => c[1]),
      );
      if (!created) throw new Error('insert returned nothing');
      await audit(em, now, {
        actor,
        entity: spec.table,
        entityId: String(created.id),
        action: 'create',
        toState: 'created',
        detail: redact(spec, values),
      });
      return created;
    });
    await this.afterChange(spec);
    return present(spec, row);
  }

  async update(
    spec: ResourceSpec,
    id: string,
    body: unknown,
    actor: string,
    now: Date,
  ): Promise<Record<string, unknown>> {
    await this.get(spec, id);
    const values = parseBody(this.updateSchema(spec), body);
    const cols = this.columns(spec, values);
    if (cols.length === 0) throw new ApiError(400, '(body): nothing to change', '(body)');
    const row = await this.run(async (em) => {
      const [updated] = await q<Record<string, unknown>>(
        em,
        `update ${spec.table} set ${cols.map((c) => `${c[0]} = ${c[2]}`).join(', ')}, updated_at = now() where id = ? returning *`,
        [...cols.map((c) => c[1]), id],
      );
      if (!updated) throw notFound(spec.name, id);
      await audit(em, now, {
        actor,
        entity: spec.table,
        entityId: id,
        action: 'update',
        detail: redact(spec, values),
      });
      return updated;
    });
    await this.afterChange(spec);
    return present(spec, row);
  }

  async remove(spec: ResourceSpec, id: string, actor: string, now: Date): Promise<void> {
    await this.get(spec, id);
    await this.run(async (em) => {
      await em.execute(`delete from ${spec.table} where id = ?`, [id], 'run');
      await audit(em, now, { actor, entity: spec.table, entityId: id, action: 'delete', toState: 'deleted' });
    });
    await this.afterChange(spec);
  }

  private async run<T>(fn: (em: Em) => Promise<T>): Promise<T> {
    try {
      return await tx(this.orm, fn);
    } catch (err) {
      throw conflictFrom(err) ?? err;
    }
  }
}

function redact(spec: ResourceSpec, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values))
    out[k] = spec.fields[k]?.secret ? '(changed)' : typeof v === 'bigint' ? v.toString() : v;
  return out;
}
