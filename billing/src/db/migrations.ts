// Billing schema (MikroORM Migrator, listed in code so the built service needs no file discovery).
// Plain snake_case names: Grafana's "Billing" PostgreSQL datasource reads them directly.
// Money is `bigint` whole rupiah (IDR has no minor unit); never a float.
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122BillingInitial extends Migration {
  override name = '2026-11-22-billing-initial';

  override up(): void {
    this.addSql(`
      create table staff_users (
        id bigserial primary key,
        username text not null unique,
        display_name text not null default '',
        role text not null check (role in ('admin', 'billing', 'viewer')),
        active boolean not null default true,
        created_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table api_tokens (
        token_hash text primary key,
        staff_user_id bigint not null references staff_users (id) on delete cascade,
        label text not null default '',
        created_at timestamptz not null default now(),
        last_used_at timestamptz
      )`);
    this.addSql(`
      create table customers (
        id bigserial primary key,
        code text not null unique,
        name text not null,
        email text,
        phone text,
        address text,
        suspension_exempt boolean not null default false,
        notes text not null default '',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table plans (
        id bigserial primary key,
        code text not null unique,
        name text not null,
        kind text not null check (kind in ('pppoe', 'hotspot', 'static')),
        rate_limit text not null,
        burst text,
        price_idr bigint not null check (price_idr >= 0),
        validity_days integer not null check (validity_days > 0),
        profile text not null,
        isolation text not null default 'profile' check (isolation in ('profile', 'disable')),
        isolation_profile text,
        active boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table routers (
        id bigserial primary key,
        name text not null unique,
        host text not null,
        api_port integer not null check (api_port between 1 and 65535),
        tls boolean not null default false,
        username text not null,
        password_enc text not null,
        site text not null default '',
        isolation_profile text not null default 'isolir',
        isolation_rate_limit text not null default '256k/256k',
        monitored boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    this.addSql(`
      create table subscriptions (
        id bigserial primary key,
        customer_id bigint not null references customers (id),
        plan_id bigint not null references plans (id),
        router_id bigint not null references routers (id),
        ppp_username text not null,
        ppp_password_enc text not null,
        local_address text,
        remote_address text,
        period_start timestamptz not null,
        period_end timestamptz not null,
        status text not null check (status in ('active', 'suspended', 'expired', 'cancelled')),
        auto_renew boolean not null default true,
        suspended_reason text,
        sync_state text not null default 'pending' check (sync_state in ('pending', 'synced', 'failed')),
        sync_version integer not null default 1,
        synced_version integer not null default 0,
        kick_pending boolean not null default false,
        sync_attempts integer not null default 0,
        next_sync_at timestamptz not null default now(),
        sync_claimed_until timestamptz,
        sync_error text,
        synced_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        cancelled_at timestamptz,
        unique (router_id, ppp_username)
      )`);
    this.addSql('create index subscriptions_status_idx on subscriptions (status, period_end)');
    this.addSql('create index subscriptions_customer_idx on subscriptions (customer_id)');
    this.addSql(
      "create index subscriptions_sync_idx on subscriptions (next_sync_at) where sync_state <> 'synced'",
    );
    this.addSql(`
      create table invoice_counters (
        series text primary key,
        last_number integer not null
      )`);
    this.addSql(`
      create table invoices (
        id bigserial primary key,
        number text not null unique,
        customer_id bigint not null references customers (id),
        subscription_id bigint references subscriptions (id),
        kind text not null check (kind in ('renewal', 'first', 'manual')),
        description text not null default '',
        amount_idr bigint not null check (amount_idr >= 0),
        credit_idr bigint not null default 0 check (credit_idr >= 0),
        period_start timestamptz,
        period_end timestamptz,
        issued_at timestamptz not null,
        due_at timestamptz not null,
        status text not null check (status in ('unpaid', 'paid', 'overdue', 'cancelled')),
        paid_at timestamptz,
        cancelled_at timestamptz,
        cancel_reason text,
        created_by text not null
      )`);
    this.addSql(
      "create unique index invoices_period_uq on invoices (subscription_id, period_start) where status <> 'cancelled' and kind <> 'manual'",
    );
    this.addSql('create index invoices_status_idx on invoices (status, due_at)');
    this.addSql('create index invoices_customer_idx on invoices (customer_id)');
    this.addSql('create index invoices_subscription_idx on invoices (subscription_id, status)');
    this.addSql(`
      create table payment_orders (
        order_id text primary key,
        invoice_id bigint not null references invoices (id),
        gross_amount_idr bigint not null,
        status text not null,
        snap_token text,
        redirect_url text,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        last_checked_at timestamptz,
        updated_at timestamptz not null
      )`);
    this.addSql('create index payment_orders_invoice_idx on payment_orders (invoice_id)');
    this.addSql(
      "create index payment_orders_open_idx on payment_orders (created_at) where status in ('created', 'pending', 'challenge')",
    );
    this.addSql(`
      create table payments (
        id bigserial primary key,
        invoice_id bigint not null references invoices (id),
        method text not null check (method in ('cash', 'transfer', 'midtrans')),
        amount_idr bigint not null check (amount_idr > 0),
        reference text,
        provider_order_id text,
        provider_transaction_id text unique,
        payment_type text,
        raw jsonb,
        received_at timestamptz not null,
        recorded_by text not null
      )`);
    this.addSql('create index payments_invoice_idx on payments (invoice_id)');
    this.addSql(`
      create table midtrans_notifications (
        id bigserial primary key,
        received_at timestamptz not null,
        source text not null check (source in ('notification', 'poll')),
        order_id text,
        transaction_status text,
        signature_valid boolean not null,
        outcome text not null,
        reason text,
        raw text not null
      )`);
    this.addSql(
      'create index midtrans_notifications_order_idx on midtrans_notifications (order_id, received_at)',
    );
    this.addSql(`
      create table audit_log (
        id bigserial primary key,
        at timestamptz not null,
        actor text not null,
        entity text not null,
        entity_id text not null,
        action text not null,
        from_state text,
        to_state text,
        reason text,
        detail jsonb not null default '{}'
      )`);
    this.addSql('create index audit_log_entity_idx on audit_log (entity, entity_id, id)');
    // Append-only: history is never rewritten, whoever holds the connection.
    this.addSql(`
      create function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_log is append-only';
      end $$`);
    this.addSql(
      'create trigger audit_log_no_change before update or delete on audit_log for each row execute function audit_log_append_only()',
    );
    this.addSql(`
      create table client_links (
        id bigserial primary key,
        code text not null unique,
        customer_id bigint not null references customers (id),
        name text not null,
        router_id bigint references routers (id),
        interface text,
        probe_host text,
        probe_protocol text not null default 'icmp' check (probe_protocol in ('icmp', 'tcp')),
        probe_port integer,
        bandwidth text,
        service_address text,
        availability_target_percent numeric(7, 4) not null,
        latency_target_ms numeric(10, 3),
        loss_target_percent numeric(7, 4),
        monthly_fee_idr bigint not null check (monthly_fee_idr >= 0),
        credit_policy jsonb not null,
        contacts text[] not null default '{}',
        time_zone text not null default 'Asia/Jakarta',
        no_data_policy text not null default 'exclude' check (no_data_policy in ('down', 'exclude')),
        active boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
  }
}

export class Migration20261122SlaReports extends Migration {
  override name = '2026-11-22-sla-reports';

  override up(): void {
    this.addSql(`
      create table maintenance_windows (
        id bigserial primary key,
        link_id bigint references client_links (id) on delete cascade,
        router_id bigint references routers (id) on delete cascade,
        starts_at timestamptz not null,
        ends_at timestamptz not null,
        reason text not null,
        created_by text not null,
        created_at timestamptz not null default now(),
        check (ends_at > starts_at),
        check (link_id is not null or router_id is not null)
      )`);
    this.addSql('create index maintenance_windows_time_idx on maintenance_windows (starts_at, ends_at)');
    this.addSql(`
      create table sla_reports (
        id bigserial primary key,
        link_id bigint not null references client_links (id) on delete cascade,
        month text not null,
        availability_percent numeric(9, 5),
        breached boolean not null,
        credit_idr bigint not null,
        summary jsonb not null,
        pdf bytea not null,
        created_at timestamptz not null,
        emailed_at timestamptz,
        email_error text,
        unique (link_id, month)
      )`);
    // Events for billing: a breached month owes the client a credit on a later invoice.
    this.addSql(`
      create table sla_credits (
        id bigserial primary key,
        link_id bigint not null references client_links (id) on delete cascade,
        customer_id bigint not null references customers (id),
        month text not null,
        credit_percent numeric(6, 2) not null,
        amount_idr bigint not null check (amount_idr >= 0),
        created_at timestamptz not null,
        applied_invoice_id bigint references invoices (id),
        unique (link_id, month)
      )`);
  }
}

// Midtrans money is booked on the status API's word: its answer is kept with the order and the payment.
// A notification body that PostgreSQL `text` cannot hold (NUL, not UTF-8) is kept byte for byte.
export class Migration20261130MidtransConfirmation extends Migration {
  override name = '2026-11-30-midtrans-confirmation';

  override up(): void {
    this.addSql('alter table payment_orders add column provider_status jsonb');
    this.addSql('alter table payments add column provider_status jsonb');
    this.addSql('alter table midtrans_notifications add column raw_bytes bytea');
  }
}

// The isolation page finds a subscriber by the address billing assigned to their PPP secret.
export class Migration20261201Portal extends Migration {
  override name = '2026-12-01-portal';

  override up(): void {
    this.addSql(
      "create index subscriptions_remote_address_idx on subscriptions (remote_address) where status <> 'cancelled'",
    );
  }
}

// Notices to subscribers: the outbox (one row per event, anchor and channel; attempts), each customer's
// channel choice, language and opt-out, and the indexes the notice scan reads events through.
export class Migration20261201Notices extends Migration {
  override name = '2026-12-01-notices';

  override up(): void {
    this.addSql(`
      create table notices (
        id bigserial primary key,
        dedupe_key text not null unique,
        event text not null check (event in ('invoice_issued', 'reminder', 'overdue', 'suspended', 'paid', 'restored')),
        channel text not null check (channel in ('email', 'sms', 'whatsapp')),
        customer_id bigint not null references customers (id) on delete cascade,
        subscription_id bigint references subscriptions (id) on delete cascade,
        invoice_id bigint references invoices (id) on delete cascade,
        audit_id bigint,
        language text not null check (language in ('id', 'en')),
        recipient text not null,
        status text not null check (status in ('pending', 'sent', 'dead', 'suppressed', 'superseded')),
        attempts integer not null default 0,
        dead_after integer,
        generation integer not null default 0,
        next_attempt_at timestamptz not null,
        last_error text,
        created_at timestamptz not null,
        sent_at timestamptz
      )`);
    this.addSql("create index notices_due_idx on notices (next_attempt_at) where status = 'pending'");
    this.addSql('create index notices_customer_idx on notices (customer_id, id)');
    this.addSql('create index notices_invoice_idx on notices (invoice_id)');
    this.addSql(`
      create table notice_attempts (
        id bigserial primary key,
        notice_id bigint not null references notices (id) on delete cascade,
        at timestamptz not null,
        ok boolean,
        error text,
        duration_ms integer
      )`);
    this.addSql('create index notice_attempts_notice_idx on notice_attempts (notice_id)');
    this.addSql(`
      create table notice_settings (
        customer_id bigint primary key references customers (id) on delete cascade,
        channels text[] not null,
        language text not null check (language in ('id', 'en')),
        opted_out boolean not null default false,
        updated_at timestamptz not null
      )`);
    this.addSql('create index invoices_issued_idx on invoices (issued_at)');
    this.addSql('create index invoices_paid_idx on invoices (paid_at) where paid_at is not null');
    this.addSql(
      "create index audit_log_notice_idx on audit_log (at) where (entity = 'subscriptions' and action in ('suspend', 'restore')) or (entity = 'invoices' and action = 'overdue')",
    );
  }

  override down(): void {
    this.addSql('drop index audit_log_notice_idx');
    this.addSql('drop index invoices_paid_idx');
    this.addSql('drop index invoices_issued_idx');
    this.addSql('drop table notice_settings');
    this.addSql('drop table notice_attempts');
    this.addSql('drop table notices');
  }
}

export const migrationsList = [
  { name: '2026-11-22-billing-initial', class: Migration20261122BillingInitial },
  { name: '2026-11-22-sla-reports', class: Migration20261122SlaReports },
  { name: '2026-11-30-midtrans-confirmation', class: Migration20261130MidtransConfirmation },
  { name: '2026-12-01-portal', class: Migration20261201Portal },
  { name: '2026-12-01-notices', class: Migration20261201Notices },
];
