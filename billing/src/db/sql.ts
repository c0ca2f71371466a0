// Thin SQL helpers over the ORM's connection: `?` placeholders bound as parameters (service-kit's
// `queryRows`, not `em.execute`, which writes every value into the SQL text), rows as plain objects.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { executeStatement, queryRows } from '@ispmon/service-kit';

export type Em = EntityManager;

export async function q<T>(em: Em, sql: string, params: unknown[] = []): Promise<T[]> {
  return queryRows<T>(em, sql, params);
}

/** Runs a statement (insert, update, delete) with bound parameters; returns how many rows it touched. */
export function exec(em: Em, sql: string, params: unknown[] = []): Promise<number> {
  return executeStatement(em, sql, params);
}

/** A PostgreSQL array literal of integers (`any(?::bigint[])`), each id checked to be an integer. */
export function pgIds(ids: ReadonlyArray<string | number>): string {
  for (const id of ids) if (!/^\d+$/.test(String(id))) throw new Error(`not an integer id: ${id}`);
  return `{${ids.join(',')}}`;
}

export async function one<T>(em: Em, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await q<T>(em, sql, params))[0];
}

export function tx<T>(orm: MikroORM, fn: (em: Em) => Promise<T>): Promise<T> {
  return orm.em.fork().transactional(fn);
}

export interface AuditRecord {
  actor: string;
  entity: string;
  entityId: string | number | bigint;
  action: string;
  fromState?: string | null;
  toState?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown>;
}

/** Appends to the billing audit log inside the caller's transaction. */
export async function audit(em: Em, at: Date, r: AuditRecord): Promise<void> {
  await executeStatement(
    em,
    'insert into audit_log (at, actor, entity, entity_id, action, from_state, to_state, reason, detail) values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)',
    [
      at,
      r.actor,
      r.entity,
      String(r.entityId),
      r.action,
      r.fromState ?? null,
      r.toState ?? null,
      r.reason ?? null,
      JSON.stringify(r.detail ?? {}),
    ],
  );
}

/** Errors the API turns into 4xx answers. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string | number): ApiError =>
  new ApiError(404, `${what} ${id} not found`);

/** Postgres unique violation → 409 naming the constraint's column. */
export function conflictFrom(err: unknown): ApiError | undefined {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code === '23505')
    return new ApiError(409, `already exists: ${e.detail ?? e.constraint ?? 'duplicate'}`);
  if (e.code === '23503')
    return new ApiError(409, `still referenced or missing reference: ${e.detail ?? e.constraint ?? ''}`);
  return undefined;
}
