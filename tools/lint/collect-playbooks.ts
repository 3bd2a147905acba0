import { createDefaultActions } from '../../src/actions/default-actions.js';
import type { LabelMatcher } from '../../src/core/label-matcher.js';
import { parseDrillsSource } from '../../src/drills/load-drills.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { readPlaybookSources } from '../../src/playbooks/load-playbooks.js';
import { guardsWithPaths, stepsWithPaths } from '../../src/playbooks/playbook-paths.js';
import type { SourcePath, SourceProblem } from '../../src/sources/index.js';
import type { LintExpression } from './lint-expression.js';
import type { ProjectFile } from './project-files.js';

/** A playbook as lint needs it: which alerts it selects. */
export interface PlaybookInfo {
  readonly file: string;
  readonly name: string;
  readonly matchLine: number | undefined;
  readonly match: string;
  readonly matchers: readonly LabelMatcher[];
}

/** What the playbook files hold. */
export interface CollectedPlaybooks {
  readonly playbooks: PlaybookInfo[];
  readonly expressions: LintExpression[];
  /** Every problem `remediator validate` reports for these files (the inventory and the drills too), as it reports it. */
  readonly problems: SourceProblem[];
  /** False when a playbook did not load: the playbooks are then not all known. */
  readonly complete: boolean;
}

/**
 * Loads the playbooks as `remediator validate` does (inventory → actions → read, schema, rules; the drills against
 * the inventory), offline: the actions are built as `remediator schema` builds them, with no client, and an
 * inventory password reference is not resolved. From each playbook that loads: its `match:`, its guards' queries and its `promql.wait` steps'
 * queries, each with the line it is written at.
 */
export function collectPlaybooks(
  files: readonly ProjectFile[],
  inventoryFile: ProjectFile | undefined,
  drillsFile?: ProjectFile,
): CollectedPlaybooks {
  const inventory = inventoryFile === undefined ? undefined : parseInventorySource(inventoryFile.path, inventoryFile.text, () => '');
  // No inventory file is an empty inventory, as for validate: a drill's cluster is then unknown.
  const clusters = inventory === undefined ? { file: undefined, clusters: new Map() } : inventory.success ? inventory.inventory : undefined;
  const drills = drillsFile === undefined ? undefined : parseDrillsSource(drillsFile.path, drillsFile.text, clusters, Date.now());
  const actions = createDefaultActions({
    smtpUrl: undefined,
    smtpFrom: 'remediator@localhost',
    prometheusUrl: undefined,
    path: undefined,
    ...(inventory?.success === true ? { inventory: inventory.inventory } : {}),
  });
  const loaded = readPlaybookSources(
    files.map((file) => ({ file: file.path, text: file.text })),
    actions,
  );
  const collected: CollectedPlaybooks = {
    playbooks: [],
    expressions: [],
    problems: [
      ...(inventory?.success === false ? inventory.problems : []),
      ...loaded.problems,
      ...(drills?.success === false ? drills.problems : []),
    ],
    complete: loaded.results.every((result) => result.playbook !== undefined),
  };
  for (const { playbook, document } of loaded.results) {
    if (!playbook || !document) continue;
    collected.playbooks.push({
      file: playbook.file,
      name: playbook.name,
      matchLine: document.position(['match'])?.line,
      match: playbook.match,
      matchers: playbook.matchers,
    });
    const expression = (what: string, text: string, path: SourcePath): LintExpression => ({
      file: playbook.file,
      what,
      text,
      variables: 'playbook-template',
      lineAt: (offset) => document.positionIn(path, offset)?.line,
    });
    for (const { at, guard } of guardsWithPaths(playbook))
      collected.expressions.push(expression(`guard ${guard.name}`, guard.query, [...at, 'query']));
    for (const { at, step } of stepsWithPaths(playbook)) {
      const query = step.with.query;
      if (step.action === 'promql.wait' && typeof query === 'string')
        collected.expressions.push(expression(`step ${step.name} (promql.wait)`, query, [...at, 'with', 'query']));
    }
  }
  return collected;
}
