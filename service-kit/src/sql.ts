// SQL with bound parameters on the ORM's connection or open transaction. MikroORM's `em.execute` writes
// every parameter into the SQL text (a 10 MiB value cost seconds per statement); these hand them to
// PostgreSQL apart from the text, as the protocol's bind step does.
import type { EntityManager, Kysely } from '@mikro-orm/postgresql';

export type Row = Record<string, unknown>;

type Compiled = Parameters<Kysely<unknown>['executeQuery']>[0];
let queryNumber = 0;

/**
 * `sql` with each `?` outside quotes and comments turned into `$1`, `$2`, …; throws when the count differs
 * from `parameterCount`. (`?` is always a placeholder: use `jsonb_exists()` rather than the `?` operator.)
 */
export function numberPlaceholders(sql: string, parameterCount: number): string {
  let n = 0;
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    const closer = c === "'" || c === '"' ? c : c === '-' && sql[i + 1] === '-' ? '\n' : undefined;
    if (closer !== undefined) {
      const end = sql.indexOf(closer, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') out += `$${++n}`;
    else out += c;
  }
  if (n !== parameterCount)
    throw new Error(`SQL has ${n} placeholders for ${parameterCount} parameters: ${sql.slice(0, 200)}`);
  return out;
}

async function run(em: EntityManager, sql: string, params: readonly unknown[]) {
  const text = numberPlaceholders(sql, params.length);
  const compiled = {
    sql: text,
    parameters: params,
    query: { kind: 'RawNode', sqlFragments: [text], parameters: [] },
    queryId: { queryId: `ispmon-sql-${++queryNumber}` },
  } as unknown as Compiled;
  const client = (em.getTransactionContext<Kysely<unknown>>() ??
    em.getConnection().getClient()) as Kysely<unknown>;
  return client.executeQuery(compiled);
}

/** Runs `sql` (`?` placeholders) with bound parameters in `em`'s transaction, if one is open; returns the rows. */
export async function queryRows<T = Row>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  return (await run(em, sql, params)).rows as T[];
}

/** As `queryRows`, for a statement whose affected row count is the answer (insert, update, delete). */
export async function executeStatement(
  em: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<number> {
  return Number((await run(em, sql, params)).numAffectedRows ?? 0);
}
