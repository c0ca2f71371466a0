// What operators and Prometheus call: liveness, readiness, metrics, the OpenAPI document.
import type express from 'express';
import { readiness } from '@ispmon/service-kit';
import type { AppOptions } from '../app.js';
import { q } from '../db/sql.js';
import { openApiDocument } from '../openapi.js';

export function mountOperations(app: express.Router, o: AppOptions): void {
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const r = await readiness({
      stopping: o.stopping ?? (() => false),
      database: () => q(o.orm.em.fork(), 'select 1'),
    });
    res.status(r.status).json(r.body);
  });
  app.get('/metrics', async (_req, res) => {
    try {
      await o.metrics.refresh(o.orm.em.fork());
    } catch {
      // database down: serve counters and process metrics anyway
    }
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument));
}
