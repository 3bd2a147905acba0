import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { formatProblem, loadPlaybooks } from '../../src/playbooks/load-playbooks.js';

const remediations = fileURLToPath(new URL('../../remediations', import.meta.url));

describe('the playbooks shipped in remediations/', () => {
  test('the default playbooks load cleanly against the shipped inventory', async () => {
    const inventory = await loadInventory(`${remediations}/inventory.yaml`, { required: true, readSecret: () => 'unused' });
    assert.ok(inventory.success, JSON.stringify(inventory));
    const result = await loadPlaybooks(remediations, createDefaultActions({ smtpUrl: undefined, smtpFrom: 'a@b', prometheusUrl: undefined, path: undefined, inventory: inventory.inventory }));
    assert.ok(result.success, result.success ? '' : result.problems.map(formatProblem).join('\n'));
    assert.ok(result.playbooks.some((playbook) => playbook.name === 'redis-primary-failover' && playbook.resolved?.delayMs === 0));
  });

  test('every recipe in remediations/examples/ loads cleanly', async () => {
    const files = (await readdir(`${remediations}/examples`)).filter((name) => name.endsWith('.yaml'));
    const result = await loadPlaybooks(`${remediations}/examples`, createDefaultActions({ smtpUrl: undefined, smtpFrom: 'a@b', prometheusUrl: undefined, path: undefined }));
    assert.ok(result.success, result.success ? '' : result.problems.map(formatProblem).join('\n'));
    assert.equal(result.playbooks.length, files.length, 'one playbook per file, none skipped');
  });
});
