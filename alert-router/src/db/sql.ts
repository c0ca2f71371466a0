// SQL through the ORM's connection and transaction, for the set-based and locking statements
// (ON CONFLICT, FOR UPDATE SKIP LOCKED) where the SQL says exactly what happens.
import type { EntityManager, Kysely } from '@mikro-orm/postgresql';

export type Row = Record<string, unknown>;

type Compiled = Parameters<Kysely<unknown>['executeQuery']>[0];
let queryNumber = 0;

/**
 * Runs `sql` with `?` placeholders as a bound-parameter query on the entity manager's connection (its
 * transaction, if one is open). `em.execute` would inline every parameter into the SQL text, which
 * cost 5–16 s for a 10 MiB webhook body; bound parameters go to PostgreSQL as they are.
 */
export async function q<T extends Row = Row>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  if (n !== params.length) throw new Error(`SQL has ${n} placeholders for ${params.length} parameters`);
  const compiled = {
    sql: text,
    parameters: params,
    query: { kind: 'RawNode', sqlFragments: [text], parameters: [] },
    queryId: { queryId: `ispmon-${++queryNumber}` },
  } as unknown as Compiled;
  const client = (em.getTransactionContext<Kysely<unknown>>() ??
    em.getConnection().getClient()) as Kysely<unknown>;
  return (await client.executeQuery(compiled)).rows as T[];
}

/** An `incidents` row as the driver returns it (timestamps may come back as Date or text). */
export interface IncidentRow extends Row {
  id: string;
  fingerprint: string;
  starts_at: Date | string;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  summary: string;
  escalation_policy: string | null;
  last_seen_at: Date | string;
  resolved_at: Date | string | null;
  acknowledged_at: Date | string | null;
  acknowledged_by: string | null;
}

export class NotFoundError extends Error {}
export class ConflictError extends Error {}
