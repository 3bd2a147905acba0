import { createDefaultActions } from '../../src/actions/default-actions.js';
import type { ActionRegistry } from '../../src/core/action-registry.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';

/** The built-in actions, without SMTP or Prometheus, acting on the inventory written in `inventoryYaml`. */
export function defaultActionsWith(inventoryYaml: string): ActionRegistry {
  const inventory = parseInventorySource('inventory.yaml', inventoryYaml, () => '');
  if (!inventory.success) throw new Error(`test inventory invalid: ${JSON.stringify(inventory.problems)}`);
  return createDefaultActions({
    smtpUrl: undefined,
    smtpFrom: 'a@b',
    prometheusUrl: undefined,
    path: undefined,
    inventory: inventory.inventory,
  });
}
