import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Inventory, InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import type { ClusterScrape, CollectorsByKind } from './collector.js';
import { exporterMetrics, type ExporterMetricName, type Sample } from './metric-catalogue.js';

/** What `createExporter` needs; the registry is the caller's (no global one). */
export interface ExporterOptions {
  inventory: Inventory;
  registry: Registry;
  collectors: CollectorsByKind;
  /** Each member probe is abandoned after this long and the member reported down. */
  probeTimeoutMs: number;
  logger: Logger;
}

/** The exporter: its gauges are registered on the registry and filled at scrape time. */
export interface Exporter {
  /**
   * The samples of one scrape; calls made while a scrape is in flight share it. `timeoutMs` (the scraper's own
   * deadline, less a margin) shortens each member probe below `probeTimeoutMs` for a scrape that starts now.
   */
  scrape(options?: { timeoutMs?: number }): Promise<Sample[]>;
}

type ProbeOutcome = { ok: true; samples: Sample[] } | { ok: false; reason: string };

/** No probe is cut shorter than this, whatever deadline the scraper announces: a live member needs a few round trips. */
const minProbeTimeoutMs = 50;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The kinds whose collectors ask each member for its live role (the others label members with the inventory's). */
const liveRoleKinds = new Set<string>(['redis', 'postgres']);

/**
 * How many members answered as a primary in this scrape: the roles they reported themselves, never a down member's
 * last known or inventory role. A cluster with a second writable primary must be told apart from one with a
 * primary that merely was one (MultiplePrimaries fences on it without waiting for any other alert).
 */
function livePrimaries(cluster: InventoryCluster, results: readonly { samples: Sample[]; answered: boolean }[]): Sample {
  const value = results.filter(
    (result) =>
      result.answered &&
      result.samples.some((sample) => sample.metric === 'remediator_member_up' && sample.value === 1 && sample.labels.role === 'primary'),
  ).length;
  return { metric: 'remediator_cluster_primaries', labels: { cluster: cluster.name, service: cluster.kind }, value };
}

/**
 * Registers one gauge per catalogue metric. Values are computed when Prometheus scrapes, never on a timer: the
 * first gauge collected starts a probe of every member of every cluster (concurrently, each bounded by
 * `probeTimeoutMs`) and the other gauges share that same in-flight scrape.
 */
export function createExporter(options: ExporterOptions): Exporter {
  const { inventory, registry, collectors, probeTimeoutMs, logger } = options;
  // A down member cannot tell its role, yet InstanceDown{role="primary"} must fire when the primary dies: the
  // last role it reported live is kept per exporter (cluster, member).
  const lastRoles = new Map<string, string>();
  let inFlight: Promise<Sample[]> | undefined;

  for (const kind of new Set([...inventory.clusters.values()].map((cluster) => cluster.kind))) {
    if (collectors[kind] === undefined) logger.warn({ kind }, 'exporter: no collector for this cluster kind; its members are not probed');
  }

  const probeMember = async (
    cluster: InventoryCluster,
    member: InventoryMember,
    scrape: ClusterScrape,
    timeoutMs: number,
  ): Promise<{ samples: Sample[]; answered: boolean }> => {
    const started = performance.now();
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    // The race, not the collector's good manners, bounds the scrape: a collector stuck past the abort is left behind.
    const timedOut = new Promise<ProbeOutcome>((resolve) => {
      controller.signal.addEventListener(
        'abort',
        () => {
          resolve({ ok: false, reason: messageOf(controller.signal.reason) });
        },
        { once: true },
      );
    });
    const probed = Promise.resolve()
      .then(() => scrape.probe(member, controller.signal))
      .then(
        (samples): ProbeOutcome => ({ ok: true, samples }),
        (error: unknown): ProbeOutcome => ({ ok: false, reason: messageOf(error) }),
      );
    const outcome = await Promise.race([probed, timedOut]);
    clearTimeout(timer);
    const duration = (performance.now() - started) / 1000;

    const key = `${cluster.name}\u0000${member.name}`;
    const base: Record<string, string> = { cluster: cluster.name, instance: member.name, service: cluster.kind };
    const reported = outcome.ok ? outcome.samples : [{ metric: 'remediator_member_up' as const, labels: {}, value: 0 }];
    if (!outcome.ok) logger.debug({ cluster: cluster.name, member: member.name, reason: outcome.reason }, 'exporter: probe failed');
    const samples = reported.map((sample): Sample => {
      const labels: Record<string, string> = { ...base, ...sample.labels };
      if (sample.metric !== 'remediator_member_up') return { ...sample, labels };
      const role = labels.role;
      if (role !== undefined && role !== 'unknown') {
        if (sample.value === 1) lastRoles.set(key, role);
        return { ...sample, labels };
      }
      return { ...sample, labels: { ...labels, role: lastRoles.get(key) ?? member.role ?? 'unknown' } };
    });
    samples.push({ metric: 'remediator_member_probe_duration_seconds', labels: base, value: duration });
    return { samples, answered: outcome.ok };
  };

  const probeCluster = async (cluster: InventoryCluster, timeoutMs: number): Promise<Sample[]> => {
    const collector = collectors[cluster.kind];
    if (collector === undefined) return [];
    let scrape: ClusterScrape;
    if (typeof collector === 'function') scrape = { probe: (member, signal) => collector(cluster, member, signal), finish: () => [] };
    else {
      try {
        scrape = collector.begin(cluster);
      } catch (error) {
        logger.error({ cluster: cluster.name, error: messageOf(error) }, 'exporter: collector failed to start');
        return [];
      }
    }
    const results = await Promise.all(cluster.members.map((member) => probeMember(cluster, member, scrape, timeoutMs)));
    const primaries = liveRoleKinds.has(cluster.kind) ? [livePrimaries(cluster, results)] : [];
    const answered = new Set(cluster.members.filter((_member, index) => results[index]?.answered === true).map((member) => member.name));
    let derived: Sample[] = [];
    try {
      derived = scrape
        .finish(answered)
        .map((sample) => ({ ...sample, labels: { cluster: cluster.name, service: cluster.kind, ...sample.labels } }));
    } catch (error) {
      logger.error({ cluster: cluster.name, error: messageOf(error) }, 'exporter: collector failed to compare members');
    }
    return [...results.flatMap((result) => result.samples), ...primaries, ...derived];
  };

  const scrape = (scrapeOptions: { timeoutMs?: number } = {}): Promise<Sample[]> => {
    const timeoutMs = Math.max(minProbeTimeoutMs, Math.min(probeTimeoutMs, scrapeOptions.timeoutMs ?? probeTimeoutMs));
    inFlight ??= Promise.all([...inventory.clusters.values()].map((cluster) => probeCluster(cluster, timeoutMs)))
      .then((perCluster) => perCluster.flat())
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  for (const [name, definition] of Object.entries(exporterMetrics) as [
    ExporterMetricName,
    (typeof exporterMetrics)[ExporterMetricName],
  ][]) {
    const labelNames: readonly string[] = definition.labels;
    new Gauge({
      name,
      help: definition.help,
      labelNames,
      registers: [registry],
      async collect() {
        let samples: Sample[];
        try {
          samples = await scrape();
        } catch (error) {
          // /metrics must still answer; an empty gauge is better than a failed scrape of every other metric.
          logger.error({ error: messageOf(error) }, 'exporter: scrape failed');
          samples = [];
        }
        // Series of an earlier scrape (a member that changed role, a replica that became primary) must not linger.
        this.reset();
        for (const sample of samples) {
          if (sample.metric !== name) continue;
          // Labels outside the catalogue would make prom-client throw; the catalogue is the contract.
          const labels = Object.fromEntries(
            labelNames.flatMap((label) => (sample.labels[label] === undefined ? [] : [[label, sample.labels[label]]])),
          );
          this.set(labels, sample.value);
        }
      },
    });
  }

  return { scrape };
}
