import { join, relative } from 'node:path';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import type { ActionRegistry } from '../../src/core/action-registry.js';
import type { Playbook } from '../../src/core/playbook.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { loadPlaybooks } from '../../src/playbooks/load-playbooks.js';
import type { SourceProblem } from '../../src/sources/index.js';

/** Playbooks loaded and validated by the real loader, with the action registry their dry runs validate against. */
export interface PlaybookSet {
  /** The remediations directory they came from. */
  readonly dir: string;
  readonly playbooks: readonly Playbook[];
  readonly actions: ActionRegistry;
}

/** The playbooks of a directory, or every problem of its files. */
export type PlaybookSetResult = { success: true; set: PlaybookSet } | { success: false; problems: SourceProblem[] };

/**
 * Loads a remediations directory as `remediator lint` does, offline: its inventory (`inventory`, else the
 * directory's optional inventory.yaml; a password reference is not resolved), the actions built on it with no
 * client (a dry run only renders and validates), and its playbooks through src/playbooks/load-playbooks.ts.
 */
export async function loadPlaybookSet(dir: string, options: { inventory?: string; cwd?: string } = {}): Promise<PlaybookSetResult> {
  const cwd = options.cwd ?? process.cwd();
  const inventoryPath = options.inventory ?? join(dir, 'inventory.yaml');
  const inventory = await loadInventory(inventoryPath, {
    required: options.inventory !== undefined,
    readSecret: () => '',
    displayPath: relative(cwd, inventoryPath) || inventoryPath,
  });
  if (!inventory.success) return { success: false, problems: inventory.problems };
  const actions = createDefaultActions({
    smtpUrl: undefined,
    smtpFrom: 'remediator@localhost',
    prometheusUrl: undefined,
    path: undefined,
    inventory: inventory.inventory,
  });
  const loaded = await loadPlaybooks(dir, actions, cwd);
  if (!loaded.success) return { success: false, problems: loaded.problems };
  return { success: true, set: { dir, playbooks: loaded.playbooks, actions } };
}
