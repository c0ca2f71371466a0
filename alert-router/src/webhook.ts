// POST /webhook/alertmanager: authenticate, read the body up to the configured limit, validate, ingest.
// Alertmanager drops a delivery answered 4xx, so every refusal (too large, not JSON, invalid) is
// stored raw (bounded), logged and counted before the answer; a database error answers 503 (retried).
import type { IncomingMessage } from 'node:http';
import { isDatabaseUnavailable } from '@ispmon/service-kit';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { REJECTED_KEEP_CHARS, type Ingest } from './ingest.js';
import type { RouterMetrics } from './metrics.js';
import { describeIssue, webhookSchema } from './payload.js';

/** Far above Alertmanager's largest realistic group (4,690 alerts came to 3 MiB); WEBHOOK_MAX_BYTES. */
export const DEFAULT_MAX_WEBHOOK_BYTES = 64 * 1024 * 1024;

export interface WebhookOptions {
  ingest: Ingest;
  metrics: RouterMetrics;
  logger: Logger;
  clock: () => Date;
  maxBytes?: number;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** Called after a webhook commits, so workers act without waiting for their next poll. */
  onIngested?: () => void;
  /** At most one `onIngested` call per this many ms (default 100): a burst of webhooks wakes the workers once. */
  wakeEveryMs?: number;
}

/**
 * `wake` at most once per `everyMs`, and always once after the last call: every commit is followed by
 * a wake that starts after it, but 100 webhooks a second cost 10 escalation and outbox rounds, not 100.
 */
export function throttledWake(wake: () => void, everyMs: number): () => void {
  let last = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    timer = undefined;
    last = performance.now();
    wake();
  };
  return () => {
    if (timer) return; // the wake already scheduled comes after this commit
    const wait = last + everyMs - performance.now();
    if (wait <= 0) fire();
    else timer = setTimeout(fire, wait).unref();
  };
}

interface Body {
  text: string;
  /** Bytes read (all of them when within the limit; where reading stopped when over it). */
  bytes: number;
  over: boolean;
}

/** Reads at most `limit` bytes; past it keeps only the first `keep` bytes and stops reading. */
export function readBoundedBody(req: IncomingMessage, limit: number, keep: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const done = (over: boolean): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', reject);
      let buf = Buffer.concat(chunks);
      if (over) {
        req.pause();
        buf = buf.subarray(0, keep);
      }
      resolve({ text: buf.toString('utf8'), bytes, over });
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      chunks.push(chunk);
      if (bytes > limit) done(true);
    };
    const onEnd = (): void => done(false);
    const declared = Number(req.headers['content-length'] ?? '');
    if (Number.isFinite(declared) && declared > limit) {
      // Read only the part that will be stored, then refuse.
      const onFirst = (chunk: Buffer): void => {
        bytes += chunk.length;
        chunks.push(chunk);
        if (bytes >= keep) finish();
      };
      const finish = (): void => {
        req.off('data', onFirst);
        req.off('end', finish);
        req.pause();
        resolve({
          text: Buffer.concat(chunks).subarray(0, keep).toString('utf8'),
          bytes: declared,
          over: true,
        });
      };
      req.on('data', onFirst);
      req.on('end', finish);
      req.on('error', reject);
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

function authorised(o: WebhookOptions, header: string): boolean {
  if (!o.bearerToken && !o.basicAuth) return true;
  if (o.bearerToken !== undefined && header === `Bearer ${o.bearerToken}`) return true;
  return (
    o.basicAuth !== undefined &&
    header === `Basic ${Buffer.from(`${o.basicAuth.username}:${o.basicAuth.password}`).toString('base64')}`
  );
}

export function webhookHandler(o: WebhookOptions): (req: Request, res: Response) => Promise<void> {
  const limit = o.maxBytes ?? DEFAULT_MAX_WEBHOOK_BYTES;
  const wake = o.onIngested ? throttledWake(o.onIngested, o.wakeEveryMs ?? 100) : undefined;
  const refuse = async (
    res: Response,
    raw: string,
    bytes: number,
    reason: string,
    status: 400 | 413,
    outcome: 'rejected' | 'too_large',
  ): Promise<void> => {
    try {
      await o.ingest.recordRejected(raw, bytes, reason, o.clock());
    } catch (err) {
      // Cannot even record the refusal: answer 503 so Alertmanager retries instead of dropping it.
      o.logger.error(
        { event: 'webhook_reject_store_failed', reason, bytes, error: (err as Error).message },
        'could not store a refused webhook; answering 503 so Alertmanager retries',
      );
      o.metrics.webhooks.inc({ outcome: 'failed' });
      res.status(503).json({ error: 'database unavailable' });
      return;
    }
    o.metrics.webhooks.inc({ outcome });
    o.logger.warn(
      { event: `webhook_${outcome}`, reason, bytes },
      `webhook refused (${status}) and stored in webhook_deliveries: ${reason}`,
    );
    res.status(status).json({ error: `invalid Alertmanager webhook: ${reason}` });
  };

  return async (req, res) => {
    const started = performance.now();
    if (!authorised(o, req.get('authorization') ?? '')) {
      req.resume();
      o.metrics.webhooks.inc({ outcome: 'unauthorized' });
      o.logger.warn({ event: 'webhook_unauthorized' }, 'webhook with missing or wrong credentials refused');
      res.status(401).json({ error: 'missing or wrong credentials' });
      return;
    }
    const body = await readBoundedBody(req, limit, REJECTED_KEEP_CHARS);
    if (body.over) {
      res.set('connection', 'close');
      await refuse(
        res,
        body.text,
        body.bytes,
        `body of ${body.bytes} bytes or more exceeds the limit of ${limit} bytes (WEBHOOK_MAX_BYTES); first ${REJECTED_KEEP_CHARS} bytes stored`,
        413,
        'too_large',
      );
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      parsed = undefined;
    }
    const result = parsed === undefined ? undefined : webhookSchema.safeParse(parsed);
    if (!result?.success) {
      await refuse(
        res,
        body.text,
        body.bytes,
        result ? describeIssue(result.error) : 'body is not JSON',
        400,
        'rejected',
      );
      return;
    }
    try {
      const r = await o.ingest.ingest(result.data, body.text, o.clock());
      o.metrics.webhooks.inc({ outcome: 'accepted' });
      o.metrics.alerts.inc(result.data.alerts.length);
      o.metrics.ingestDuration.observe((performance.now() - started) / 1000);
      o.logger.info(
        {
          event: 'webhook_accepted',
          groupKey: result.data.groupKey,
          alerts: result.data.alerts.length,
          created: r.created,
          resolved: r.resolved,
        },
        'webhook stored',
      );
      res.json({ status: 'stored', ...r });
      wake?.();
    } catch (err) {
      o.metrics.webhooks.inc({ outcome: 'failed' });
      o.logger.error({ event: 'webhook_store_failed', error: (err as Error).message }, 'webhook not stored');
      const db = isDatabaseUnavailable(err);
      res
        .status(db ? 503 : 500)
        .json({ error: db ? 'database unavailable, retry' : 'internal error, retry' });
    }
  };
}
