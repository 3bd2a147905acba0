import { parseLabelMatchers, type LabelMatcher } from '../../src/core/label-matcher.js';
import type { LintExpression } from './lint-expression.js';
import type { LintProblem } from './lint-problem.js';
import type { ProjectFile } from './project-files.js';
import { yamlDocuments, type DocumentPath } from './source-document.js';
import { list, record } from './raw-values.js';

/** A playbook as lint needs it: which alerts it selects. */
export interface PlaybookInfo {
  readonly file: string;
  readonly name: string;
  readonly matchLine: number | undefined;
  readonly match: string;
  /** Undefined when `match:` does not parse (reported as a syntax problem). */
  readonly matchers: readonly LabelMatcher[] | undefined;
}

/** What the playbook files hold. */
export interface CollectedPlaybooks {
  readonly playbooks: PlaybookInfo[];
  readonly expressions: LintExpression[];
  readonly problems: LintProblem[];
  /** False when a playbook file could not be read: the playbooks are then not all known. */
  complete: boolean;
}


/** The step lists of a playbook, as the loader reads them. */
const stepLists: readonly DocumentPath[] = [['steps'], ['resolved', 'steps'], ['skipped', 'steps'], ['approval', 'notify']];

/**
 * Reads each playbook's `match:`, its guards' queries and its `promql.wait` steps' queries. Everything else of a
 * playbook (schema, actions, templates) is `remediator validate`'s.
 */
export function collectPlaybooks(files: readonly ProjectFile[]): CollectedPlaybooks {
  const collected: CollectedPlaybooks = { playbooks: [], expressions: [], problems: [], complete: true };
  for (const { file, document } of yamlDocuments(files, collected)) {
    const raw = record(document.value) ?? {};
    const name = typeof raw.name === 'string' ? raw.name : file.path;
    const expression = (what: string, text: string, path: DocumentPath, checkMetrics = true): LintExpression => ({
      file: file.path,
      what,
      text,
      variables: 'playbook-template',
      checkMetrics,
      lineAt: (offset) => document.lineIn(path, offset),
    });
    if (typeof raw.match !== 'string') {
      collected.problems.push({ file: file.path, message: `playbook ${name}: no match: (the label matchers of the alerts it handles)`, ...lineOf(document.line([])) });
      collected.complete = false;
    } else {
      // The matchers are parsed the way the webhook intake applies them; syntax errors come from the expression check.
      const matchers = parseLabelMatchers(raw.match);
      collected.playbooks.push({
        file: file.path,
        name,
        matchLine: document.line(['match']),
        match: raw.match,
        matchers: matchers.success ? matchers.matchers : undefined,
      });
      if (!matchers.success) {
        collected.problems.push({ file: file.path, message: `match: ${matchers.errors.join('; ')}`, ...lineOf(document.line(['match'])) });
        collected.complete = false;
      }
    }
    list(raw.guards).forEach((guard, index) => {
      const query = record(guard)?.query;
      const guardName = record(guard)?.name;
      if (typeof query === 'string') collected.expressions.push(expression(`guard ${typeof guardName === 'string' ? guardName : String(index)}`, query, ['guards', index, 'query']));
    });
    for (const at of stepLists) {
      let steps: unknown = raw;
      for (const key of at) steps = record(steps)?.[key];
      list(steps).forEach((step, index) => {
        const fields = record(step);
        const query = record(fields?.with)?.query;
        if (fields?.action !== 'promql.wait' || typeof query !== 'string') return;
        const stepName = typeof fields.name === 'string' ? fields.name : String(index);
        collected.expressions.push(expression(`step ${stepName} (promql.wait)`, query, [...at, index, 'with', 'query']));
      });
    }
  }
  return collected;
}

const lineOf = (line: number | undefined): { line?: number } => (line === undefined ? {} : { line });
