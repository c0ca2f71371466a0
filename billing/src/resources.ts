// Plain CRUD resources of the staff API (customers, plans, routers, client links): each is its entity
// (db/entities.ts, the table) plus what the API accepts for it (fields with their zod schemas). API field
// names are the column names (snake_case), so what staff send, what the API answers, what Grafana reads
// and what the audit log names are the same words. The store works through MikroORM's unit of work.
import { z } from 'zod';
import {
  RequestContext,
  wrap,
  type EntityManager,
  type EntitySchema,
  type FilterQuery,
  type MikroORM,
} from '@mikro-orm/postgresql';
import { ClientLinkEntity, CustomerEntity, PlanEntity, RouterEntity } from './db/entities.js';
import { ApiError, audit, conflictFrom, notFound } from './db/sql.js';
import { timeZoneSchema } from './policy.js';
import type { SecretBox } from './secrets.js';

export const moneyIdr = z
  .union([
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    z.string().regex(/^\d{1,18}$/, 'whole rupiah as digits'),
  ])
  .transform((v) => BigInt(v));

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
}

/** What every CRUD entity has: a bigint id (as a string) and the time of its last change. */
export interface Resource {
  id: string;
  updated_at: Date;
}

export interface ResourceSpec {
  name: string; // singular, for messages
  /** The table: its entity, and its name (the audit log's `entity`). */
  entity: EntitySchema<Resource>;
  table: string;
  fields: Record<string, Field>;
  filters: string[];
  search: string[];
}

const resource = <T extends Resource>(
  entity: EntitySchema<T>,
  spec: Omit<ResourceSpec, 'entity' | 'table'>,
): ResourceSpec => ({
  ...spec,
  entity: entity as unknown as EntitySchema<Resource>,
  table: entity.meta.tableName,
});

const text = (max = 200) => z.string().trim().min(1, 'must not be empty').max(max);
const nullableText = (max = 500) => z.string().trim().max(max).nullable();

export const customerSpec = resource(CustomerEntity, {
  name: 'customer',
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
});

export const planSpec = resource(PlanEntity, {
  name: 'plan',
  fields: {
    code: { schema: text(40), required: true },
    name: { schema: text(), required: true },
    kind: { schema: z.enum(['pppoe', 'hotspot', 'static']), required: true },
    rate_limit: {
      schema: z.string().regex(/^\d+[kKmMgG]?\/\d+[kKmMgG]?$/, "RouterOS rate limit like '10M/10M'"),
      required: true,
    },
    burst: { schema: nullableText(100) },
    price_idr: { schema: moneyIdr, required: true },
    validity_days: { schema: z.number().int().min(1).max(3660), required: true },
    profile: { schema: text(64), required: true },
    isolation: { schema: z.enum(['profile', 'disable']) },
    isolation_profile: { schema: z.string().trim().min(1).max(64).nullable() },
    active: { schema: z.boolean() },
  },
  filters: ['kind', 'active', 'code'],
  search: ['code', 'name', 'profile'],
});

export const routerSpec = resource(RouterEntity, {
  name: 'router',
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
});

export const linkSpec = resource(ClientLinkEntity, {
  name: 'client link',
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
    monthly_fee_idr: { schema: moneyIdr, required: true },
    credit_policy: { schema: creditPolicySchema, required: true },
    contacts: { schema: z.array(z.email()).max(20) },
    time_zone: { schema: timeZoneSchema },
    no_data_policy: { schema: z.enum(['down', 'exclude']) },
    active: { schema: z.boolean() },
  },
  filters: ['customer_id', 'router_id', 'active', 'code'],
  search: ['code', 'name'],
});

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

  /** The request's unit of work (RequestContext, set by the HTTP shell); a fresh one outside a request. */
  private em(): EntityManager {
    return (RequestContext.getEntityManager() as EntityManager | undefined) ?? this.orm.em.fork();
  }

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

  /** Validated API values → entity properties: secrets sealed into `<name>_enc`, money as digit strings. */
  private properties(spec: ResourceSpec, values: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      if (spec.fields[k]?.secret) out[`${k}_enc`] = this.box.seal(String(v));
      else out[k] = typeof v === 'bigint' ? v.toString() : v;
    }
    return out;
  }

  /**
   * Exact-match filters from the query string, typed by the entity's properties. A value that cannot be
   * equal to any stored one (`active=yes`, `customer_id=x`) matches nothing, as text comparison would.
   */
  private where(
    spec: ResourceSpec,
    query: Record<string, unknown>,
    search?: string,
  ): FilterQuery<Resource> | undefined {
    const where: Record<string, unknown> = {};
    const props = spec.entity.meta.properties as Record<string, { kind: string; type: string } | undefined>;
    for (const f of spec.filters) {
      const v = query[f];
      if (typeof v !== 'string' || v === '') continue;
      const prop = props[f];
      const type = String(prop?.type ?? '').toLowerCase();
      if (prop?.kind === 'm:1' || /int/.test(type)) {
        if (!/^(0|[1-9]\d{0,17})$/.test(v)) return undefined;
        where[f] = v;
      } else if (type === 'boolean') {
        if (v !== 'true' && v !== 'false') return undefined;
        where[f] = v === 'true';
      } else where[f] = v;
    }
    if (search) {
      const like = `%${search.replace(/[%_\\]/g, '\\$&')}%`;
      where.$or = spec.search.map((c) => ({ [c]: { $ilike: like } }));
    }
    return where as FilterQuery<Resource>;
  }

  async list(spec: ResourceSpec, query: Record<string, unknown>): Promise<Page<Record<string, unknown>>> {
    const page = parseBody(pageSchema, query);
    const where = this.where(spec, query, page.q);
    if (!where) return { items: [], total: 0, limit: page.limit, offset: page.offset };
    const [rows, total] = await this.em().findAndCount(spec.entity, where, {
      orderBy: { id: 'asc' },
      limit: page.limit,
      offset: page.offset,
    });
    return { items: rows.map((r) => answer(spec, r)), total, limit: page.limit, offset: page.offset };
  }

  private async find(em: EntityManager, spec: ResourceSpec, id: string): Promise<Resource> {
    if (!/^\d{1,18}$/.test(id)) throw new ApiError(400, `id: must be a positive integer`, 'id');
    const row = await em.findOne(spec.entity, { id } as FilterQuery<Resource>);
    if (!row) throw notFound(spec.name, id);
    return row;
  }

  async get(spec: ResourceSpec, id: string): Promise<Record<string, unknown>> {
    return answer(spec, await this.find(this.em(), spec, id));
  }

  async create(
    spec: ResourceSpec,
    body: unknown,
    actor: string,
    now: Date,
  ): Promise<Record<string, unknown>> {
    const values = parseBody(this.createSchema(spec), body);
    const row = await this.unitOfWork(async (em) => {
      // Validated by the spec's zod schemas; the entity's own types are not known here.
      const created = em.create(spec.entity, this.properties(spec, values) as Partial<Resource> as Resource);
      await em.flush();
      await audit(em, now, {
        actor,
        entity: spec.table,
        entityId: created.id,
        action: 'create',
        toState: 'created',
        detail: redact(spec, values),
      });
      return created;
    });
    await this.afterChange(spec);
    return answer(spec, row);
  }

  async update(
    spec: ResourceSpec,
    id: string,
    body: unknown,
    actor: string,
    now: Date,
  ): Promise<Record<string, unknown>> {
    const em = this.em();
    await this.find(em, spec, id);
    const values = parseBody(this.updateSchema(spec), body);
    const changes = this.properties(spec, values);
    if (Object.keys(changes).length === 0) throw new ApiError(400, '(body): nothing to change', '(body)');
    const row = await this.unitOfWork(async (tem) => {
      const current = await this.find(tem, spec, id);
      // updated_at moves even when the values are the same (as the API always did).
      tem.assign(current, { ...changes, updated_at: new Date() });
      await tem.flush();
      await audit(tem, now, {
        actor,
        entity: spec.table,
        entityId: id,
        action: 'update',
        detail: redact(spec, values),
      });
      return current;
    }, em);
    await this.afterChange(spec);
    return answer(spec, row);
  }

  async remove(spec: ResourceSpec, id: string, actor: string, now: Date): Promise<void> {
    const em = this.em();
    await this.find(em, spec, id);
    await this.unitOfWork(async (tem) => {
      tem.remove(await this.find(tem, spec, id));
      await tem.flush();
      await audit(tem, now, {
        actor,
        entity: spec.table,
        entityId: id,
        action: 'delete',
        toState: 'deleted',
      });
    }, em);
    await this.afterChange(spec);
  }

  /** One transaction, flushed at the end; constraint violations become 409 answers. */
  private async unitOfWork<T>(fn: (em: EntityManager) => Promise<T>, em = this.em()): Promise<T> {
    try {
      return await em.transactional(fn);
    } catch (err) {
      throw conflictFrom(err) ?? err;
    }
  }
}

/** An entity as the API answers it: relations as their ids, no sealed secrets, JSON-safe numbers. */
function answer(spec: ResourceSpec, entity: Resource): Record<string, unknown> {
  return present(spec, wrap(entity).toObject() as Record<string, unknown>);
}

function redact(spec: ResourceSpec, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values))
    out[k] = spec.fields[k]?.secret ? '(changed)' : typeof v === 'bigint' ? v.toString() : v;
  return out;
}
