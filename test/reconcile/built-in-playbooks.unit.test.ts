import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { parsePlaybookSources } from '../../src/playbooks/load-playbooks.js';
import { loadBuiltInPlaybooks } from '../../src/reconcile/built-in-playbooks.js';

const inventoryOf = (kinds: string[]) => {
  const clusters = kinds.map(
    (kind, index) => `  c${index}:\n    kind: ${kind}\n    members:\n      - { name: m${index}, address: 127.0.0.1:${6000 + index} }`,
  );
  const result = parseInventorySource('inventory.yaml', `clusters:\n${clusters.join('\n')}\n`, () => '');
  if (!result.success) assert.fail(JSON.stringify(result.problems));
  return result.inventory;
};

describe('the built-in fence and switchover playbooks', () => {
  test('exist for Redis and PostgreSQL clusters, and pass the same validation as the files in remediations/', () => {
    const inventory = inventoryOf(['redis', 'postgres', 'http']);
    const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'r@test', prometheusUrl: undefined, path: undefined, inventory });
    const loaded = loadBuiltInPlaybooks(inventory.clusters.values(), actions, []);
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(
      loaded.playbooks.map((playbook) => [playbook.name, playbook.steps[0]?.action, playbook.steps[0]?.with.promote, playbook.budget]),
      [
        ['remediator-fence-postgres', 'postgres.promote', false, { cooldownMs: 0, maxRuns: 10, windowMs: 3_600_000 }],
        ['remediator-switchover-postgres', 'postgres.switchover', undefined, undefined],
        ['remediator-fence-redis', 'redis.failover', false, { cooldownMs: 0, maxRuns: 10, windowMs: 3_600_000 }],
        ['remediator-switchover-redis', 'redis.switchover', undefined, undefined],
      ],
    );
    assert.deepEqual(loadBuiltInPlaybooks(inventoryOf(['http']).clusters.values(), actions, []).playbooks, []);
  });

  test('reserve their names: a playbook file that takes one is refused, naming its file', () => {
    const inventory = inventoryOf(['redis']);
    const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'r@test', prometheusUrl: undefined, path: undefined, inventory });
    const files = parsePlaybookSources(
      [
        {
          file: 'mine.yaml',
          text: 'name: remediator-fence-redis\nmatch: \'{alertname="X"}\'\nsteps:\n  - { name: s, action: log, with: { message: m } }\n',
        },
      ],
      actions,
    );
    assert.ok(files.success);
    const loaded = loadBuiltInPlaybooks(inventory.clusters.values(), actions, files.playbooks);
    assert.deepEqual(loaded.problems, [
      { file: 'mine.yaml', message: 'name: "remediator-fence-redis" is reserved for a playbook built into remediator' },
    ]);
  });
});
