import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createDefaultCollectors } from '../exporters/default-collectors.js';
import { createExporter } from '../exporters/create-exporter.js';
import type { Inventory } from '../inventory/inventory.js';
import type { PrimaryRecord } from '../state/primary-record.js';
import { createAlertmanagerClient } from './alertmanager-client.js';
import type { ReconcileSources } from './start-reconcile.js';

/**
 * The clients the reconcile loop reads: one per Alertmanager, and the exporter's own member probes (on a registry
 * of their own, never served) for the roles the members report right now. No inventory: no role sweep.
 */
export function createReconcileSources(options: {
  alertmanagerUrls: readonly string[];
  receiver?: string;
  intervalMs: number;
  inventory: Inventory;
  record: PrimaryRecord;
  probeTimeoutMs: number;
  logger: Logger;
}): ReconcileSources {
  const exporter =
    options.inventory.clusters.size === 0
      ? undefined
      : createExporter({
          inventory: options.inventory,
          registry: new Registry(),
          collectors: createDefaultCollectors(),
          probeTimeoutMs: options.probeTimeoutMs,
          logger: options.logger,
        });
  return {
    alertmanagers: options.alertmanagerUrls.map((url) =>
      createAlertmanagerClient({
        url,
        ...(options.receiver === undefined ? {} : { receiver: options.receiver }),
        // A pass must end within its interval; an Alertmanager slower than that counts as unreachable for this pass.
        timeoutMs: Math.max(1000, Math.min(options.intervalMs, 5000)),
      }),
    ),
    ...(exporter === undefined ? {} : { roles: { inventory: options.inventory, record: options.record, probe: () => exporter.scrape() } }),
  };
}
