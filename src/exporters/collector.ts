import type { ClusterKind, InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import type { Sample } from './metric-catalogue.js';

/**
 * Probes one member and reports its samples. It must give up when `signal` aborts; the exporter stops waiting
 * at that moment anyway and reports the member down, so a collector that ignores the signal only leaks work.
 * `remediator_member_up` may leave out `role` (or say "unknown"): the exporter fills in the last known one.
 */
export type Collector = (cluster: InventoryCluster, member: InventoryMember, signal: AbortSignal) => Promise<Sample[]>;

/** One scrape of one cluster by a {@link ClusterCollector}. */
export interface ClusterScrape {
  /** Probes one member, like a {@link Collector}. */
  probe(member: InventoryMember, signal: AbortSignal): Promise<Sample[]>;
  /** Samples that compare members (replication lag), from the members whose probe answered in time. */
  finish(answered: ReadonlySet<string>): Sample[];
}

/**
 * For kinds whose metrics are relative across the cluster (lag behind the freshest member): `begin` is called
 * once per cluster per scrape, so what the probes learn is shared by that scrape only.
 */
export interface ClusterCollector {
  begin(cluster: InventoryCluster): ClusterScrape;
}

/** The collector of each cluster kind; a kind without one is not probed. */
export type CollectorsByKind = Partial<Record<ClusterKind, Collector | ClusterCollector>>;
