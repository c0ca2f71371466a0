// SQL through the ORM's connection and transaction, for the set-based and locking statements
// (ON CONFLICT, FOR UPDATE SKIP LOCKED) where the SQL says exactly what happens.
import type { EntityManager } from '@mikro-orm/postgresql';
import { queryRows, type Row } from '@ispmon/service-kit';

export type { Row };

/** Runs `sql` (`?` placeholders) with bound parameters on `em`'s connection or open transaction (service-kit). */
export function q<T extends Row = Row>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return queryRows<T>(em, sql, params);
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
