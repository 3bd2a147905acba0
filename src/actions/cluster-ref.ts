import { isTemplated } from '../core/template/template.js';
import type { ClusterKind, Inventory, InventoryCluster } from '../inventory/inventory.js';
import { permanentError } from '../core/action.js';

/**
 * Load-time check of a `cluster:` parameter: a literal name must exist in the inventory with the right kind.
 * A templated one (`{{ labels.cluster }}`) is checked when the step runs.
 */
export function checkClusterRef(
  inventory: Inventory,
  raw: Readonly<Record<string, unknown>>,
  kind: ClusterKind,
): { path: (string | number)[]; message: string }[] {
  const name = raw.cluster;
  if (typeof name !== 'string' || isTemplated(name)) return [];
  const cluster = inventory.clusters.get(name);
  if (!cluster)
    return [
      {
        path: ['cluster'],
        message: `no cluster "${name}" in the inventory${inventory.file ? ` (${inventory.file})` : ' (no inventory file loaded)'}`,
      },
    ];
  if (cluster.kind !== kind)
    return [{ path: ['cluster'], message: `cluster "${name}" is of kind ${cluster.kind}, this action needs ${kind}` }];
  return [];
}

/** The cluster a step acts on; a missing or wrong-kind cluster is a permanent error. */
export function resolveCluster(inventory: Inventory, name: string, kind: ClusterKind): InventoryCluster {
  const cluster = inventory.clusters.get(name);
  if (!cluster) throw permanentError(`no cluster "${name}" in the inventory`);
  if (cluster.kind !== kind) throw permanentError(`cluster "${name}" is of kind ${cluster.kind}, not ${kind}`);
  return cluster;
}
