import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { createPlaybookJsonSchema } from '../../src/playbooks/playbook-json-schema.js';

const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'remediator@localhost', prometheusUrl: undefined, path: undefined });

describe('the playbook JSON Schema for editors', () => {
  test('the committed remediations/playbook.schema.json is what `remediator schema` generates now', async () => {
    const committed: unknown = JSON.parse(await readFile(new URL('../../remediations/playbook.schema.json', import.meta.url), 'utf8'));
    assert.deepEqual(
      committed,
      createPlaybookJsonSchema(actions),
      'stale: run `npx tsx src/main.ts schema > remediations/playbook.schema.json`',
    );
  });

  test("each action's with: block is described by that action's own schema and unknown keys are refused", () => {
    const schema = createPlaybookJsonSchema(actions) as {
      additionalProperties: boolean;
      properties: {
        steps: {
          items: { oneOf: { properties: { action: { const: string }; with: { additionalProperties: boolean; required?: string[] } } }[] };
        };
      };
    };
    assert.equal(schema.additionalProperties, false);
    const byAction = new Map(schema.properties.steps.items.oneOf.map((branch) => [branch.properties.action.const, branch.properties.with]));
    assert.deepEqual([...byAction.keys()], [...actions.keys()].sort(), 'one branch per registered action');
    assert.deepEqual(byAction.get('exec')?.required, ['command']);
    assert.equal(byAction.get('http')?.additionalProperties, false);
  });
});
