import type { ActionRegistry } from '../core/action-registry.js';
import { secondPrimaryAlertName, switchoverAlertName, switchoverPlaybookName } from '../core/built-in-names.js';
import type { Playbook } from '../core/playbook.js';
import type { InventoryCluster } from '../inventory/inventory.js';
import { readPlaybookSources } from '../playbooks/load-playbooks.js';
import type { SourceProblem } from '../sources/index.js';

/**
 * The built-in fence playbooks, as YAML, so that they pass the same validation as the files in remediations/ and
 * read like them in the queue UI. They never promote: a fence keeps the primary remediator recorded and makes the
 * extra one follow it. The budget bounds a fence that does not hold (a member that keeps coming back writable).
 * A PostgreSQL primary fenced read-only reads as `fenced`, not as a primary (src/exporters/postgres-collector.ts),
 * so a fence that held ends its episode.
 */
const fenceSource = (kind: string, action: string, description: string) => `name: remediator-fence-${kind}
description: Built in. ${description}
match: '{alertname="${secondPrimaryAlertName}", service="${kind}"}'
on: firing
target: '{{ labels.cluster }}'
retry: { attempts: 3, backoff: 1s }
budget: { maxRuns: 10, window: 1h }
steps:
  - name: fence
    action: ${action}
    with: { cluster: '{{ labels.cluster }}', promote: false }
`;

const fenceSources = {
  redis: fenceSource('redis', 'redis.failover', 'The reconcile loop saw a second Redis primary; make it a replica of the recorded one.'),
  postgres: fenceSource(
    'postgres',
    'postgres.promote',
    'The reconcile loop saw a second writable PostgreSQL primary; fence it read-only, keep the newest.',
  ),
} as const;

/**
 * Planned switchover (POST /api/clusters/:cluster/switchover, drills): on the cluster's target, so it takes the same
 * lease as its failover and never runs beside one. No budget: a person or a drill schedule asked for it, and it is
 * audited. One attempt: a switchover that failed is looked at, not repeated; the action leaves the cluster writable.
 */
const switchoverSource = (kind: string, action: string) => `name: ${switchoverPlaybookName(kind)}
description: Built in. A planned switchover asked for by an operator or a drill.
match: '{alertname="${switchoverAlertName}", service="${kind}"}'
on: firing
target: '{{ labels.cluster }}'
retry: { attempts: 1, backoff: 1s }
steps:
  - name: switchover
    action: ${action}
    with: { cluster: '{{ labels.cluster }}', to: '{{ labels.to | default("") }}', mode: '{{ labels.mode | default("planned") }}' }
`;

const switchoverSources = {
  redis: switchoverSource('redis', 'redis.switchover'),
  postgres: switchoverSource('postgres', 'postgres.switchover'),
} as const;

/** The cluster kinds the reconcile loop fences. */
export type FencedKind = keyof typeof fenceSources;

/** True for a cluster the reconcile loop watches for a second writable member. */
export const isFenced = (cluster: InventoryCluster): cluster is InventoryCluster & { kind: FencedKind } => cluster.kind in fenceSources;

/** The built-in playbook sources needed for `clusters`: a fence and a switchover per kind that has them (none without). */
export function builtInPlaybookSources(clusters: Iterable<InventoryCluster>): { file: string; text: string }[] {
  const kinds = new Set([...clusters].filter(isFenced).map((cluster) => cluster.kind));
  return [...kinds].sort().flatMap((kind) => [
    { file: `(built-in)/remediator-fence-${kind}.yaml`, text: fenceSources[kind] },
    { file: `(built-in)/${switchoverPlaybookName(kind)}.yaml`, text: switchoverSources[kind] },
  ]);
}

/**
 * The built-in playbooks `clusters` need, validated like the files in remediations/ (a problem here is
 * remediator's bug, reported the same way); a playbook of the files may not take one of their names.
 */
export function loadBuiltInPlaybooks(
  clusters: Iterable<InventoryCluster>,
  actions: ActionRegistry,
  playbooks: readonly Playbook[],
): { playbooks: Playbook[]; problems: SourceProblem[] } {
  const { results, problems } = readPlaybookSources(builtInPlaybookSources(clusters), actions);
  const builtIn = results.flatMap((result) => (result.playbook ? [result.playbook] : []));
  for (const playbook of playbooks)
    if (builtIn.some((other) => other.name === playbook.name))
      problems.push({ file: playbook.file, message: `name: "${playbook.name}" is reserved for a playbook built into remediator` });
  return { playbooks: builtIn, problems };
}
