// A webhook receiver for the alert router's notifications in fault tests: it counts deliveries per
// Idempotency-Key (what arrived twice) and the distinct incidents notified, and answers after a moment,
// so that a kill lands while notifications are being delivered.
import { createServer } from 'node:http';

/** One delivery as the alert router's webhook channel sends it (the fields the tests read). */
export interface Delivery {
  key: string;
  alertname: string;
  labels: Record<string, string>;
}

export interface NotificationSink {
  /** The webhook URL to configure as the router's channel. */
  url: string;
  /** Deliveries per Idempotency-Key. */
  byKey: Map<string, number>;
  /** Values of the incidents' `n` label that were notified (test bursts label each alert `n`). */
  incidentsNotified: Set<string>;
  /** Every delivery, in arrival order. */
  deliveries: Delivery[];
  /** Idempotency-Key headers that differed from the body's `notification.key`. */
  keyMismatches: string[];
  close(): Promise<void>;
}

export async function startNotificationSink(): Promise<NotificationSink> {
  const byKey = new Map<string, number>();
  const incidentsNotified = new Set<string>();
  const deliveries: Delivery[] = [];
  const keyMismatches: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        notification: { key: string };
        incident: { alertname: string; labels: Record<string, string> };
      };
      const key = String(req.headers['idempotency-key']);
      if (key !== body.notification.key) keyMismatches.push(`${key} ≠ ${body.notification.key}`);
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
      deliveries.push({ key, alertname: body.incident.alertname, labels: body.incident.labels });
      if (body.incident.labels.n !== undefined) incidentsNotified.add(body.incident.labels.n);
      setTimeout(() => res.end('ok'), 10);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('notification sink: no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    byKey,
    incidentsNotified,
    deliveries,
    keyMismatches,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
