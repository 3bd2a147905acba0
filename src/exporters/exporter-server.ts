import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { sendError } from '../http/http-errors.js';
import type { Exporter } from './create-exporter.js';

/** Prometheus sends every scrape's deadline (the job's scrape_timeout) in this header, in seconds. */
const scrapeTimeoutHeader = 'x-prometheus-scrape-timeout-seconds';
const scrapeTimeoutSchema = z.coerce.number().positive();
/**
 * The share of the scraper's deadline the probes may use: the rest is for rendering and sending the answer. A probe
 * that outlived the deadline would lose the whole scrape, and with it every member's `remediator_member_up`:
 * PrimaryUnreachable (`== 0`) would then see no series at all instead of a 0, and never fire.
 */
const probeShareOfDeadline = 0.8;

/**
 * The probe budget a scrape announces, in ms: `probeShareOfDeadline` of Prometheus' scrape timeout; undefined
 * when the request does not say (curl, another scraper).
 */
export function probeBudgetMs(header: string | string[] | undefined): number | undefined {
  const parsed = scrapeTimeoutSchema.safeParse(Array.isArray(header) ? header[0] : header);
  return parsed.success ? Math.floor(parsed.data * 1000 * probeShareOfDeadline) : undefined;
}

/** The exporter's HTTP face: /metrics for Prometheus, /healthz for the orchestrator. Nothing else. */
export function createExporterApp(deps: { registry: Registry; exporter: Exporter }): Express {
  const { registry, exporter } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Liveness of the exporter itself, never of the members: a dead primary must not restart the exporter.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (req, res) => {
    try {
      // Start the scrape with the scraper's deadline; the gauges' collect() below shares it while it is in flight.
      const budget = probeBudgetMs(req.headers[scrapeTimeoutHeader]);
      const scraped = exporter.scrape(budget === undefined ? {} : { timeoutMs: budget });
      scraped.catch(() => undefined);
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
