// What every notification says, whatever the channel: severity, what and where, since when, the values
// in the description, runbook, dashboard and a link to acknowledge.
import type { IncidentRow } from '../db/sql.js';

export type NotificationKind = 'firing' | 'resolved' | 'acknowledged';

/** Which send this is: stable across retries and crashes, so a receiver can drop a repeat. */
export interface NotificationIdentity {
  id: string;
  /** Escalation step and repeat of a firing notice (null for resolution notices). */
  step: number | null;
  repeat: number | null;
  /** `ispmon-<id>`, sent as `Idempotency-Key` and in the webhook body. */
  key: string;
}

export interface NotificationMessage {
  notification: NotificationIdentity;
  incidentId: string;
  kind: NotificationKind;
  alertname: string;
  severity: string;
  summary: string;
  description: string;
  labels: Record<string, string>;
  startsAt: Date;
  resolvedAt?: Date | null;
  runbookUrl?: string;
  dashboardUrl?: string;
  incidentUrl: string;
  ackUrl: string;
  /** On a resolution notice: whether this channel received the firing notice (false: superseded or dead). */
  firingDelivered?: boolean;
}

export function notificationKey(id: string): string {
  return `ispmon-${id}`;
}

export function buildMessage(
  i: IncidentRow,
  kind: NotificationKind,
  publicUrl: string,
  n: { id: string; step: number | null; repeat: number | null },
  firingDelivered?: boolean,
): NotificationMessage {
  return {
    notification: { id: n.id, step: n.step, repeat: n.repeat, key: notificationKey(n.id) },
    incidentId: i.id,
    kind,
    alertname: i.alertname,
    severity: i.severity,
    summary: i.annotations.summary ?? i.summary ?? '',
    description: i.annotations.description ?? '',
    labels: i.labels,
    startsAt: new Date(i.starts_at),
    resolvedAt: i.resolved_at ? new Date(i.resolved_at) : null,
    ...(i.annotations.runbook_url ? { runbookUrl: i.annotations.runbook_url } : {}),
    ...(i.annotations.dashboard ? { dashboardUrl: i.annotations.dashboard } : {}),
    incidentUrl: `${publicUrl}/api/v1/incidents/${i.id}`,
    ackUrl: `${publicUrl}/api/v1/incidents/${i.id}/ack`,
    ...(firingDelivered === undefined ? {} : { firingDelivered }),
  };
}

/** Said on a resolution notice whose firing notice never reached this channel. */
function missedFiring(m: NotificationMessage): string {
  return m.kind === 'resolved' && m.firingDelivered === false
    ? `Fired at ${m.startsAt.toISOString()} and resolved at ${m.resolvedAt?.toISOString() ?? 'unknown'} before the firing notice was delivered.`
    : '';
}

const ICON: Record<string, string> = { critical: '🔴', warning: '🟠', info: '🔵' };

export function title(m: NotificationMessage): string {
  const state =
    m.kind === 'resolved'
      ? 'RESOLVED'
      : m.kind === 'acknowledged'
        ? 'ACKNOWLEDGED'
        : m.severity.toUpperCase();
  return `[${state}] ${m.alertname}: ${m.summary || m.alertname}`;
}

function where(m: NotificationMessage): string {
  return ['router', 'device', 'interface', 'ifName', 'link', 'customer', 'site']
    .filter((k) => m.labels[k])
    .map((k) => `${k}=${m.labels[k]}`)
    .join(' ');
}

export function plainText(m: NotificationMessage): string {
  const lines = [
    `${m.kind === 'resolved' ? '✅' : (ICON[m.severity] ?? '⚪')} ${title(m)}`,
    where(m) ? `Where: ${where(m)}` : '',
    `Since: ${m.startsAt.toISOString()}`,
    m.resolvedAt ? `Resolved: ${m.resolvedAt.toISOString()}` : '',
    missedFiring(m),
    m.description,
    m.runbookUrl ? `Runbook: ${m.runbookUrl}` : '',
    m.dashboardUrl ? `Dashboard: ${m.dashboardUrl}` : '',
    `Incident: ${m.incidentUrl}`,
    m.kind === 'firing' ? `Acknowledge: ${m.ackUrl}` : '',
  ];
  return lines.filter(Boolean).join('\n');
}

function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Telegram's HTML parse mode supports only a few tags: b, i, a, code, pre. */
export function telegramHtml(m: NotificationMessage): string {
  const lines = [
    `${m.kind === 'resolved' ? '✅' : (ICON[m.severity] ?? '⚪')} <b>${escapeHtml(title(m))}</b>`,
    where(m) ? `<code>${escapeHtml(where(m))}</code>` : '',
    `Since ${escapeHtml(m.startsAt.toISOString())}`,
    m.resolvedAt ? `Resolved ${escapeHtml(m.resolvedAt.toISOString())}` : '',
    escapeHtml(missedFiring(m)),
    escapeHtml(m.description),
    [
      m.runbookUrl ? `<a href="${escapeHtml(m.runbookUrl)}">Runbook</a>` : '',
      m.dashboardUrl ? `<a href="${escapeHtml(m.dashboardUrl)}">Dashboard</a>` : '',
      `<a href="${escapeHtml(m.incidentUrl)}">Incident</a>`,
    ]
      .filter(Boolean)
      .join(' · '),
  ];
  return lines.filter(Boolean).join('\n');
}
