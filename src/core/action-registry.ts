import type { ActionDefinition } from './action.js';

/** The actions playbooks may use, by name. */
export type ActionRegistry = ReadonlyMap<string, ActionDefinition>;

/** Builds a registry; two actions with one name are a programming error. */
export function createActionRegistry(actions: readonly ActionDefinition[]): ActionRegistry {
  const registry = new Map<string, ActionDefinition>();
  for (const action of actions) {
    if (registry.has(action.name)) throw new Error(`action ${action.name} registered twice`);
    registry.set(action.name, action);
  }
  return registry;
}
