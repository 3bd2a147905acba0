import { join, relative } from 'node:path';
import { createDefaultActions, type SecretRefReader } from '../actions/index.js';
import type { Config } from '../config/index.js';
import { drillsFileName, loadDrills } from '../drills/load-drills.js';
import { loadInventory, type SecretReader } from '../inventory/load-inventory.js';
import { loadPlaybooks } from '../playbooks/load-playbooks.js';
import { loadBuiltInPlaybooks } from '../reconcile/built-in-playbooks.js';
import type { PrimaryRecord } from '../state/primary-record.js';
import type { RunMemory } from '../state/run-memory.js';
import type { TargetHolds } from '../state/target-holds.js';

/** What loading the remediations needs from the process: how secrets are read, PATH for exec, the working directory. */
export interface RemediationsEnv {
  readSecret: SecretReader;
  readSecretRef: SecretRefReader;
  path: string | undefined;
  /** Paths in problems are shown relative to it. */
  cwd: string;
  state?: { primaryRecord: PrimaryRecord; runMemory: RunMemory; holds: TargetHolds };
}

/** Loads INVENTORY_FILE (required when set), else the optional inventory.yaml of the remediations directory. */
export function readInventory(config: Config, remediationsDir: string, env: Pick<RemediationsEnv, 'readSecret' | 'cwd'>) {
  const explicit = config.INVENTORY_FILE !== undefined;
  const inventoryPath = config.INVENTORY_FILE ?? join(remediationsDir, 'inventory.yaml');
  return loadInventory(inventoryPath, {
    required: explicit,
    readSecret: env.readSecret,
    displayPath: relative(env.cwd, inventoryPath) || inventoryPath,
  });
}

/**
 * Loads the inventory, builds the actions on it, and loads the playbooks, the built-in playbooks and the drills;
 * every problem of every file at once. The run state is only needed when runs execute (serve), not to validate.
 */
export async function loadRemediations(config: Config, remediationsDir: string, env: RemediationsEnv) {
  const inventory = await readInventory(config, remediationsDir, env);
  const actions = createDefaultActions({
    smtpUrl: config.SMTP_URL,
    smtpFrom: config.SMTP_FROM,
    prometheusUrl: config.PROMETHEUS_URL,
    path: env.path,
    readSecret: env.readSecretRef,
    ...(inventory.success ? { inventory: inventory.inventory } : {}),
    ...(env.state ?? {}),
  });
  const playbooks = await loadPlaybooks(remediationsDir, actions, undefined, {
    alertmanagerConfigured: config.ALERTMANAGER_URL.length > 0,
  });
  const drillsPath = join(remediationsDir, drillsFileName);
  const drills = await loadDrills(drillsPath, {
    inventory: inventory.success ? inventory.inventory : undefined,
    displayPath: relative(env.cwd, drillsPath) || drillsPath,
  });
  // The reconcile loop's fences, for the inventory's clusters.
  const builtIn = loadBuiltInPlaybooks(
    inventory.success ? inventory.inventory.clusters.values() : [],
    actions,
    playbooks.success ? playbooks.playbooks : [],
  );
  const problems = [
    ...(inventory.success ? [] : inventory.problems),
    ...(playbooks.success ? [] : playbooks.problems),
    ...builtIn.problems,
    ...(drills.success ? [] : drills.problems),
  ];
  if (!inventory.success || !playbooks.success || !drills.success || builtIn.problems.length > 0)
    return { success: false as const, problems };
  return {
    success: true as const,
    inventory: inventory.inventory,
    actions,
    playbooks: playbooks.playbooks,
    builtInPlaybooks: builtIn.playbooks,
    drills: drills.drills,
  };
}
