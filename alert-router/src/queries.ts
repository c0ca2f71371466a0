// Read side of the REST API and the gauges: incidents with their timeline, filtered lists with summary
// counts, MTTA/MTTR statistics. Timestamps leave here as ISO 8601 strings, counts as numbers.
import type { MikroORM } from '@mikro-orm/postgresql';
import { NotFoundError, q, type IncidentRow, type Row } from './db/sql.js';

const TIME_COLUMN = /(^at|_at|^since|^until)$/;

/** Timestamps as ISO 8601 `date-time` (the driver may give Date or PostgreSQL's text form). */
export function apiRow<T extends Row>(row: T): T {
  const out: Row = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      v instanceof Date
        ? v.toISOString()
        : typeof v === 'string' && TIME_COLUMN.test(k)
          ? new Date(v).toISOString()
          : v;
  return out as T;
}

export interface IncidentStats extends Row {
  since: string;
  until: string;
  incidents: number;
  by_severity: Record<string, number>;
  mtta_seconds: number | null;
  mttr_seconds: number | null;
}

export class IncidentQueries {
  constructor(private readonly orm: MikroORM) {}

  async get(id: string): Promise<{ incident: IncidentRow; events: Row[]; notifications: Row[] }> {
    const em = this.orm.em.fork();
    if (!/^\d+$/.test(id)) throw new NotFoundError(`incident ${id} not found`);
    const [incident] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [id]);
    if (!incident) throw new NotFoundError(`incident ${id} not found`);
    const events = await q(
      em,
      'select at, type, actor, detail from incident_events where incident_id = ? order by at, id',
      [id],
    );
    const notifications = await q(
      em,
      'select id, channel, kind, step, repeat, status, attempts, last_error, created_at, sent_at from notifications where incident_id = ? order by id',
      [id],
    );
    return {
      incident: apiRow(incident),
      events: events.map(apiRow),
      notifications: notifications.map(apiRow),
    };
  }

  async list(filter: {
    status?: string;
    severity?: string;
    labels?: Record<string, string>;
    since?: Date;
    until?: Date;
    limit: number;
    offset: number;
  }): Promise<{ items: IncidentRow[]; total: number; summary: Record<string, number> }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value?: unknown): void => {
      where.push(sql);
      if (value !== undefined) params.push(value);
    };
    if (filter.status === 'acknowledged') add("status = 'firing' and acknowledged_at is not null");
    else if (filter.status) add('status = ?', filter.status);
    if (filter.severity) add('severity = ?', filter.severity);
    if (filter.labels && Object.keys(filter.labels).length)
      add('labels @> ?::jsonb', JSON.stringify(filter.labels));
    if (filter.since) add('starts_at >= ?', filter.since);
    if (filter.until) add('starts_at < ?', filter.until);
    const clause = where.length ? `where ${where.join(' and ')}` : '';
    const em = this.orm.em.fork();
    const items = await q<IncidentRow>(
      em,
      `select * from incidents ${clause} order by starts_at desc, id desc limit ? offset ?`,
      [...params, filter.limit, filter.offset],
    );
    const [counts] = await q<Record<string, string>>(
      em,
      `select count(*) as total,
              count(*) filter (where status = 'firing') as firing,
              count(*) filter (where status = 'resolved') as resolved,
              count(*) filter (where status = 'firing' and acknowledged_at is not null) as acknowledged,
              count(*) filter (where severity = 'critical') as critical,
              count(*) filter (where severity = 'warning') as warning
         from incidents ${clause}`,
      params,
    );
    const summary = Object.fromEntries(Object.entries(counts ?? {}).map(([k, v]) => [k, Number(v)]));
    const { total = 0, ...rest } = summary;
    return { items: items.map(apiRow), total, summary: rest };
  }

  async stats(since: Date, until: Date): Promise<IncidentStats> {
    const [row] = await q<Omit<IncidentStats, 'since' | 'until'>>(
      this.orm.em.fork(),
      `select coalesce(sum(n), 0)::int as incidents,
              coalesce(jsonb_object_agg(severity, n) filter (where severity is not null), '{}') as by_severity,
              (select avg(extract(epoch from acknowledged_at - starts_at))::float8 from incidents where starts_at >= ? and starts_at < ? and acknowledged_at is not null) as mtta_seconds,
              (select avg(extract(epoch from resolved_at - starts_at))::float8 from incidents where starts_at >= ? and starts_at < ? and resolved_at is not null) as mttr_seconds
         from (select severity, count(*) as n from incidents where starts_at >= ? and starts_at < ? group by severity) s`,
      [since, until, since, until, since, until],
    );
    return {
      since: since.toISOString(),
      until: until.toISOString(),
      incidents: Number(row?.incidents ?? 0),
      by_severity: Object.fromEntries(Object.entries(row?.by_severity ?? {}).map(([k, v]) => [k, Number(v)])),
      mtta_seconds:
        row?.mtta_seconds === null || row?.mtta_seconds === undefined ? null : Number(row.mtta_seconds),
      mttr_seconds:
        row?.mttr_seconds === null || row?.mttr_seconds === undefined ? null : Number(row.mttr_seconds),
    };
  }

  async openBySeverity(): Promise<Array<{ severity: string; n: number }>> {
    return (
      await q<{ severity: string; n: string }>(
        this.orm.em.fork(),
        "select severity, count(*) as n from incidents where status = 'firing' group by severity",
      )
    ).map((r) => ({ severity: r.severity, n: Number(r.n) }));
  }
}
