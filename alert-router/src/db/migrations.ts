// Schema migrations (MikroORM Migrator, listed in code so the built service needs no file discovery).
// Table and column names are plain snake_case: Grafana's PostgreSQL datasource reads them directly
// (grafana/dashboards/alert-history.json), and the README documents them.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122Initial extends Migration {
  override name = '2026-11-22-initial';

  override up(): void {
    this.addSql(`
      create table incidents (
        id bigserial primary key,
        fingerprint text not null,
        starts_at timestamptz not null,
        alertname text not null,
        severity text not null default 'none',
        status text not null check (status in ('firing', 'resolved')),
        labels jsonb not null,
        annotations jsonb not null default '{}',
        summary text not null default '',
        generator_url text not null default '',
        receiver text not null default '',
        escalation_policy text,
        first_seen_at timestamptz not null,
        last_seen_at timestamptz not null,
        ends_at timestamptz,
        resolved_at timestamptz,
        resolved_by text,
        resolution_note text,
        acknowledged_at timestamptz,
        acknowledged_by text,
        ack_note text,
        silence_id text,
        unique (fingerprint, starts_at)
      )`);
    this.addSql('create index incidents_status_idx on incidents (status, severity)');
    this.addSql('create index incidents_starts_at_idx on incidents (starts_at desc)');
    this.addSql('create index incidents_labels_idx on incidents using gin (labels jsonb_path_ops)');
    this.addSql(`
      create table incident_events (
        id bigserial primary key,
        incident_id bigint not null references incidents (id) on delete cascade,
        at timestamptz not null,
        type text not null,
        actor text,
        detail jsonb not null default '{}'
      )`);
    this.addSql('create index incident_events_incident_idx on incident_events (incident_id, at)');
    this.addSql(`
      create table webhook_deliveries (
        id bigserial primary key,
        received_at timestamptz not null,
        status text not null check (status in ('accepted', 'rejected')),
        reason text,
        group_key text,
        alerts integer not null default 0,
        payload text not null
      )`);
    this.addSql(`
      create table escalations (
        incident_id bigint primary key references incidents (id) on delete cascade,
        policy text not null,
        step integer not null,
        repeats integer not null default 0,
        due_at timestamptz not null,
        state text not null check (state in ('active', 'stopped'))
      )`);
    this.addSql("create index escalations_due_idx on escalations (due_at) where state = 'active'");
    this.addSql(`
      create table notifications (
        id bigserial primary key,
        incident_id bigint not null references incidents (id) on delete cascade,
        channel text not null,
        kind text not null check (kind in ('firing', 'resolved', 'acknowledged')),
        dedupe_key text not null unique,
        status text not null check (status in ('pending', 'sent', 'dead')),
        attempts integer not null default 0,
        next_attempt_at timestamptz not null,
        last_error text,
        created_at timestamptz not null,
        sent_at timestamptz
      )`);
    this.addSql(
      "create index notifications_due_idx on notifications (next_attempt_at) where status = 'pending'",
    );
    this.addSql(`
      create table notification_attempts (
        id bigserial primary key,
        notification_id bigint not null references notifications (id) on delete cascade,
        at timestamptz not null,
        ok boolean not null,
        error text,
        duration_ms integer not null
      )`);
    this.addSql(`
      create table api_tokens (
        id bigserial primary key,
        name text not null unique,
        role text not null check (role in ('admin', 'operator', 'viewer')),
        token_hash text not null unique,
        created_at timestamptz not null,
        last_used_at timestamptz
      )`);
  }

  override down(): void {
    for (const t of [
      'api_tokens',
      'notification_attempts',
      'notifications',
      'escalations',
      'webhook_deliveries',
      'incident_events',
      'incidents',
    ]) {
      this.addSql(`drop table if exists ${t}`);
    }
  }
}

/**
 * Outbox with one short transaction per send: an attempt row is written at claim time (ok null while in
 * flight), notifications carry their escalation step for the receiver's idempotency key, a firing notice
 * overtaken by the resolution is `superseded`, and refused webhooks keep their size.
 */
export class Migration20261130Outbox extends Migration {
  override name = '2026-11-30-outbox';

  override up(): void {
    this.addSql('alter table notifications add column step integer, add column repeat integer');
    this.addSql('alter table notifications add column dead_after integer');
    this.addSql('alter table notifications drop constraint notifications_status_check');
    this.addSql(
      "alter table notifications add constraint notifications_status_check check (status in ('pending', 'sent', 'dead', 'superseded'))",
    );
    this.addSql('alter table notification_attempts alter column ok drop not null');
    this.addSql('alter table notification_attempts alter column duration_ms drop not null');
    this.addSql(
      'create index notification_attempts_notification_idx on notification_attempts (notification_id)',
    );
    this.addSql('create index notifications_incident_idx on notifications (incident_id)');
    this.addSql('alter table webhook_deliveries add column bytes bigint');
  }

  override down(): void {
    this.addSql('alter table webhook_deliveries drop column bytes');
    this.addSql('drop index notifications_incident_idx');
    this.addSql('drop index notification_attempts_notification_idx');
    this.addSql("delete from notifications where status = 'superseded'");
    this.addSql('alter table notifications drop constraint notifications_status_check');
    this.addSql(
      "alter table notifications add constraint notifications_status_check check (status in ('pending', 'sent', 'dead'))",
    );
    this.addSql('alter table notifications drop column step, drop column repeat, drop column dead_after');
  }
}

/** Retention deletes webhook deliveries by age: an index on when they arrived, so the hourly purge does not scan. */
export class Migration20261130DeliveryRetention extends Migration {
  override name = '2026-11-30-delivery-retention';

  override up(): void {
    this.addSql('create index webhook_deliveries_received_idx on webhook_deliveries (received_at)');
  }

  override down(): void {
    this.addSql('drop index webhook_deliveries_received_idx');
  }
}

export const migrationsList = [
  { name: '2026-11-22-initial', class: Migration20261122Initial },
  { name: '2026-11-30-outbox', class: Migration20261130Outbox },
  { name: '2026-11-30-delivery-retention', class: Migration20261130DeliveryRetention },
];
