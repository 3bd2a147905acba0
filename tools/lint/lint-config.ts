import { z } from 'zod';
import { createProblemList, readYamlSource, type SourceProblem } from '../../src/sources/index.js';

/** The project's lint configuration file, at the project's root. */
export const lintConfigFile = 'lint.yaml';

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** One metric (or family, by prefix) that comes from outside this project, and why it can be relied on. */
const externalMetricSchema = z
  .strictObject({
    name: z.string().regex(metricName, 'not a metric name').optional(),
    prefix: z.string().regex(metricName, 'not a metric name prefix').optional(),
    reason: z.string().trim().min(1, 'say where the metric comes from'),
  })
  .refine((entry) => (entry.name === undefined) !== (entry.prefix === undefined), { message: 'give either name or prefix' });

/** `lint.yaml`, written by people: strict, so a typo fails. */
export const lintConfigSchema = z.strictObject({
  /** Metrics rules and dashboards may use although neither this project nor Prometheus produces them. */
  externalMetrics: z.array(externalMetricSchema).default([]),
});

/** What lint.yaml declares. */
export interface LintConfig {
  readonly externalNames: readonly string[];
  readonly externalPrefixes: readonly string[];
}

/** Reads lint.yaml; an absent file declares nothing. */
export function parseLintConfig(text: string | undefined): { config: LintConfig; problems: SourceProblem[] } {
  const empty = { externalNames: [], externalPrefixes: [] };
  if (text === undefined) return { config: empty, problems: [] };
  const read = readYamlSource(lintConfigFile, text, 'document');
  if (!read.success) return { config: empty, problems: read.problems };
  const result = lintConfigSchema.safeParse(read.document.value ?? {});
  if (!result.success) {
    const { problems, addIssues } = createProblemList(read.document);
    addIssues(result.error.issues);
    return { config: empty, problems };
  }
  const entries = result.data.externalMetrics;
  return {
    config: {
      externalNames: entries.flatMap((entry) => (entry.name === undefined ? [] : [entry.name])),
      externalPrefixes: entries.flatMap((entry) => (entry.prefix === undefined ? [] : [entry.prefix])),
    },
    problems: [],
  };
}
