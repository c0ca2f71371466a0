// One page of a table with exact-match filters from the query string: the generic list endpoints.
import { exactFilters, pageSchema, parseBody, present, type Page } from '../resources.js';
import { q, type Em } from './sql.js';

/** `table`, `filters` and `columns` come from code, never from the request; values are bound. */
export async function listTable(
  em: Em,
  table: string,
  query: Record<string, unknown>,
  filters: string[],
  columns: string,
): Promise<Page<Record<string, unknown>>> {
  const page = parseBody(pageSchema, query);
  const { where, params } = exactFilters(query, filters);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const rows = await q<Record<string, unknown>>(
    em,
    `select ${columns} from ${table} ${clause} order by id desc limit ? offset ?`,
    [...params, page.limit, page.offset],
  );
  const total = await q<{ n: string }>(em, `select count(*) as n from ${table} ${clause}`, params);
  return {
    items: rows.map((r) => present(undefined, r)),
    total: Number(total[0]?.n ?? 0),
    limit: page.limit,
    offset: page.offset,
  };
}
