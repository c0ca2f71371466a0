// What every notification says, whatever the channel: severity, what and where, since when, the values
// in the description, runbook, dashboard and a link to acknowledge.

export interface NotificationMessage {
  incidentId: string;
  kind: 'firing' | 'resolved' | 'acknowledged';
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
