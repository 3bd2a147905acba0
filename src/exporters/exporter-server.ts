import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { sendError } from '../http/http-errors.js';

/** The exporter's HTTP face: /metrics for Prometheus, /healthz for the orchestrator. Nothing else. */
export function createExporterApp(deps: { registry: Registry }): Express {
  const { registry } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Liveness of the exporter itself, never of the members: a dead primary must not restart the exporter.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.setHeader('Content-Type', registry.contentType);
      res.send(body);
    } catch (error) {
      sendError(res, 500, 'METRICS_FAILED', `cannot collect metrics: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`);
  });
  return app;
}
