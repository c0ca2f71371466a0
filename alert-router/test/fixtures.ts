// Payloads shaped exactly like Alertmanager 0.2x webhook deliveries (version 4).
export function webhook(
  alerts: Array<Partial<AlertFixture> & { fingerprint: string }>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const full = alerts.map((a) => ({
    status: 'firing',
    labels: { alertname: 'RouterDown', router: 'core-1', severity: 'critical', team: 'noc', site: 'jkt' },
    annotations: {
      summary: 'Router core-1 is not answering its API',
      description: 'The exporter could not read core-1.',
      runbook_url: 'https://runbooks/RouterDown.md',
      dashboard: '/d/ispmon-router?var-router=core-1',
    },
    startsAt: '2026-11-22T03:00:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=mikrotik_up+%3D%3D+0',
    ...a,
  }));
  return {
    receiver: 'alert-router',
    status: full.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: full,
    groupLabels: { alertname: 'RouterDown', router: 'core-1' },
    commonLabels: { alertname: 'RouterDown', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="RouterDown", router="core-1"}',
    truncatedAlerts: 0,
    // fields newer Alertmanagers add, which the router must tolerate
    notification_reason: 'new_alert',
    ...overrides,
  };
}

export interface AlertFixture {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}
