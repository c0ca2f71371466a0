// MikroORM entity definitions of the tables the API reads through the ORM. Hot paths (webhook upserts,
// SKIP LOCKED work queues) use SQL through the same ORM connection, where ON CONFLICT and row locks say
// exactly what they do.
import { EntitySchema } from '@mikro-orm/core';

export interface Incident {
  id: string;
  fingerprint: string;
  startsAt: Date;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  summary: string;
  generatorUrl: string;
  receiver: string;
  escalationPolicy?: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  endsAt?: Date | null;
  resolvedAt?: Date | null;
  resolvedBy?: string | null;
  resolutionNote?: string | null;
  acknowledgedAt?: Date | null;
  acknowledgedBy?: string | null;
  ackNote?: string | null;
  silenceId?: string | null;
}

export interface IncidentEvent {
  id: string;
  incident: Incident;
  at: Date;
  type: string;
  actor?: string | null;
  detail: Record<string, unknown>;
}

export const IncidentSchema = new EntitySchema<Incident>({
  name: 'Incident',
  tableName: 'incidents',
  properties: {
    id: { type: 'bigint', primary: true },
    fingerprint: { type: 'text' },
    startsAt: { type: 'datetime', fieldName: 'starts_at' },
    alertname: { type: 'text' },
    severity: { type: 'text' },
    status: { type: 'text' },
    labels: { type: 'json' },
    annotations: { type: 'json' },
    summary: { type: 'text' },
    generatorUrl: { type: 'text', fieldName: 'generator_url' },
    receiver: { type: 'text' },
    escalationPolicy: { type: 'text', fieldName: 'escalation_policy', nullable: true },
    firstSeenAt: { type: 'datetime', fieldName: 'first_seen_at' },
    lastSeenAt: { type: 'datetime', fieldName: 'last_seen_at' },
    endsAt: { type: 'datetime', fieldName: 'ends_at', nullable: true },
    resolvedAt: { type: 'datetime', fieldName: 'resolved_at', nullable: true },
    resolvedBy: { type: 'text', fieldName: 'resolved_by', nullable: true },
    resolutionNote: { type: 'text', fieldName: 'resolution_note', nullable: true },
    acknowledgedAt: { type: 'datetime', fieldName: 'acknowledged_at', nullable: true },
    acknowledgedBy: { type: 'text', fieldName: 'acknowledged_by', nullable: true },
    ackNote: { type: 'text', fieldName: 'ack_note', nullable: true },
    silenceId: { type: 'text', fieldName: 'silence_id', nullable: true },
  },
});

export const IncidentEventSchema = new EntitySchema<IncidentEvent>({
  name: 'IncidentEvent',
  tableName: 'incident_events',
  properties: {
    id: { type: 'bigint', primary: true },
    incident: { kind: 'm:1', entity: () => IncidentSchema, fieldName: 'incident_id' },
    at: { type: 'datetime' },
    type: { type: 'text' },
    actor: { type: 'text', nullable: true },
    detail: { type: 'json' },
  },
});

export const entities = [IncidentSchema, IncidentEventSchema];
