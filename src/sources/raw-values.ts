/** The object at a place in parsed YAML or JSON, or undefined when something else is there. */
export const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** The list at a place in parsed YAML or JSON; empty when something else is there. */
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
