import { z } from 'zod';
import type { ActionRegistry } from '../core/action-registry.js';
import { playbookFileSchema } from './playbook-schema.js';

const toJson = (schema: z.ZodType) => {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
};

/**
 * The JSON Schema of a playbook file for editors (yaml-language-server), with each step's `with:` checked
 * against its action's own schema. Template strings are strings, so editors accept them where the loader does.
 */
export function createPlaybookJsonSchema(actions: ActionRegistry): Record<string, unknown> {
  const base = toJson(playbookFileSchema) as { properties: Record<string, { items?: Record<string, unknown> }> };
  const steps = base.properties.steps;
  if (steps?.items) {
    steps.items = {
      ...steps.items,
      oneOf: [...actions.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((action) => ({
          description: action.description,
          properties: { action: { const: action.name }, with: toJson(action.schema) },
        })),
    };
  }
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'remediator playbook', ...base };
}
