import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { parsePromql } from '../../src/core/promql/parse-promql.js';
import {
  createProblemList,
  readYamlSource,
  sortByLine,
  type SourceDocument,
  type SourcePath,
  type SourceProblem,
} from '../../src/sources/index.js';
import {
  alertWindowsFor,
  builtInAlertWindows,
  missingWindowsMessage,
  severities,
  unreachableAlert,
  type AlertWindows,
} from './burn-rate-windows.js';
import { msPerDay } from './prom-duration.js';
import { slosFileSchema, type SlosFile } from './slo-schema.js';
import type { SliQueries, SloDefinitions, SloSpec } from './slo.js';

/** The outcome of loading rules/slos.yaml: every problem at once, or the SLOs. */
export type LoadSlosResult = { success: true; definitions: SloDefinitions } | { success: false; problems: SourceProblem[] };

/** Sloth's placeholder for the rate window, as Go's template engine would accept it. */
const windowPlaceholder = /\{\{\s*\.window\s*\}\}/g;

/** Puts `window` (e.g. `5m`) where a query has `{{.window}}`. */
export function renderWindow(query: string, window: string): string {
  return query.replace(windowPlaceholder, window);
}

/** What loading needs besides the file: the burn-rate tables (Sloth's built-in ones unless a directory replaces them) and extra labels. */
export interface LoadSlosOptions {
  readonly catalog?: readonly AlertWindows[];
  readonly extraLabels?: Readonly<Record<string, string>>;
}

/** Reads and validates an SLO file; `file` is how problems name it. */
export async function loadSlos(path: string, file = path, options: LoadSlosOptions = {}): Promise<LoadSlosResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      success: false,
      problems: [{ file, message: `cannot read the SLO file (${(error as NodeJS.ErrnoException).code ?? 'error'})` }],
    };
  }
  return parseSlosSource(file, text, options);
}

/** read → schema → cross-field rules → normalise, for the text of an SLO file. */
export function parseSlosSource(file: string, text: string, options: LoadSlosOptions = {}): LoadSlosResult {
  const read = readYamlSource(file, text, 'SLO file');
  if (!read.success) return read;
  return parseSlosDocument(read.document, options);
}

/** schema → cross-field rules → normalise, for a parsed rules/slos.yaml document. */
export function parseSlosDocument(document: SourceDocument, options: LoadSlosOptions = {}): LoadSlosResult {
  const catalog = options.catalog ?? builtInAlertWindows;
  const { problems, add, addIssues } = createProblemList(document);
  const parsed = slosFileSchema.safeParse(document.value);
  if (!parsed.success) {
    addIssues(parsed.error.issues.map(withKeyMessages));
    return { success: false, problems: sortByLine(problems) };
  }
  for (const rule of rules) rule({ file: parsed.data, add, catalog });
  if (problems.length > 0) return { success: false, problems: sortByLine(problems) };
  return { success: true, definitions: normalise(parsed.data, catalog, options.extraLabels ?? {}) };
}

/** zod reports a label name that fails its checks as "Invalid key in record"; say which check instead. */
export function withKeyMessages(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_key') return issue;
  return { ...issue, message: issue.issues.map((inner) => inner.message).join('; ') };
}

interface RuleContext {
  file: SlosFile;
  add: (path: SourcePath, message: string) => void;
  catalog: readonly AlertWindows[];
}

/** Reports PromQL that does not parse once `{{.window}}` is filled in, and any other template action. */
export function checkQuery(query: string, at: SourcePath, add: RuleContext['add'], options: { window: boolean }): void {
  const placeholders = query.match(windowPlaceholder)?.length ?? 0;
  if (options.window && placeholders === 0)
    add(at, 'has no {{.window}}: the rate window of each recorded SLI goes there, e.g. rate(x[{{.window}}])');
  if (!options.window && placeholders > 0) add(at, '{{.window}} is only filled in in SLI queries');
  if (query.replace(windowPlaceholder, '').includes('{{')) {
    // The PromQL parser would only add noise about the braces.
    add(at, 'only {{.window}} is replaced in queries; no other template is allowed');
    return;
  }
  for (const error of parsePromql(renderWindow(query, '5m')).errors) add(at, `PromQL ${error.message}`);
}

/** Cross-field checks, each small and named (changesets-style). */
const rules: readonly ((ctx: RuleContext) => void)[] = [
  function sliHasOneKindOfEvents({ file, add }) {
    file.services.forEach((service, s) => {
      service.slos.forEach((slo, i) => {
        const at = ['services', s, 'slos', i, 'sli'];
        if (slo.sli.errorQuery !== undefined && slo.sli.goodQuery !== undefined) add(at, 'give errorQuery or goodQuery, not both');
        if (slo.sli.errorQuery === undefined && slo.sli.goodQuery === undefined)
          add(at, 'give errorQuery (bad events) or goodQuery (good events), with totalQuery');
      });
    });
  },
  function queriesAreTemplatedPromql({ file, add }) {
    file.indicators.forEach((indicator, i) => {
      checkQuery(indicator.expr, ['indicators', i, 'expr'], add, { window: false });
    });
    file.services.forEach((service, s) => {
      service.slos.forEach((slo, i) => {
        for (const key of ['errorQuery', 'goodQuery', 'totalQuery'] as const) {
          const query = slo.sli[key];
          if (query !== undefined) checkQuery(query, ['services', s, 'slos', i, 'sli', key], add, { window: true });
        }
      });
    });
  },
  function namesAreUnique({ file, add }) {
    const services = new Map<string, number>();
    const ids = new Map<string, string>();
    file.services.forEach((service, s) => {
      const earlier = services.get(service.name);
      if (earlier !== undefined) add(['services', s, 'name'], `service "${service.name}" is already defined at services[${earlier}]`);
      services.set(service.name, s);
      const names = new Set<string>();
      service.slos.forEach((slo, i) => {
        if (names.has(slo.name)) add(['services', s, 'slos', i, 'name'], `SLO "${slo.name}" is defined twice in service ${service.name}`);
        names.add(slo.name);
        const id = `${service.name}-${slo.name}`;
        const other = ids.get(id);
        // "a-b"/"c" and "a"/"b-c" share the id a-b-c, and with it every recorded series.
        if (other !== undefined && other !== service.name)
          add(['services', s, 'slos', i, 'name'], `sloth_id "${id}" is also the id of an SLO of service ${other}`);
        ids.set(id, service.name);
      });
    });
  },
  function pagesCanFire({ file, add, catalog }) {
    file.services.forEach((service, s) => {
      service.slos.forEach((slo, i) => {
        const { errorBudget, windowDays } = objectiveRatios(slo.objective, slo.window);
        const windows = alertWindowsFor(windowDays * msPerDay, catalog);
        if (windows === undefined) {
          add(['services', s, 'slos', i, 'window'], missingWindowsMessage(`${service.name}/${slo.name}`, windowDays * msPerDay, catalog));
          return;
        }
        const unreachable = unreachableAlert(errorBudget, windows, severities);
        if (unreachable !== undefined)
          add(['services', s, 'slos', i, 'objective'], `an objective of ${slo.objective} % over ${slo.window} ${unreachable}`);
      });
    });
  },
];

/** The objective and its error budget as ratios, exact in decimal, and the window in days. */
function objectiveRatios(objective: number, window: string): { objectiveRatio: number; errorBudget: number; windowDays: number } {
  return { ...exactRatios(objective), windowDays: Number.parseInt(window, 10) };
}

/** The objective and its error budget as ratios, exact in decimal. */
export function exactRatios(objective: number): { objectiveRatio: number; errorBudget: number } {
  // 99.95 % → 999500 / 1000000 and 500 / 1000000: one division each, so no 0.00049999999999994493.
  const millionths = Math.round(objective * 10_000);
  return { objectiveRatio: millionths / 1_000_000, errorBudget: (1_000_000 - millionths) / 1_000_000 };
}

function normalise(file: SlosFile, catalog: readonly AlertWindows[], extraLabels: Readonly<Record<string, string>>): SloDefinitions {
  return {
    indicators: file.indicators.map((indicator) => ({
      record: indicator.record,
      expr: indicator.expr.trim(),
      description: indicator.description,
    })),
    slos: file.services.flatMap((service) =>
      service.slos.map((slo): SloSpec => {
        const totalQuery = slo.sli.totalQuery.trim();
        const sli: SliQueries =
          slo.sli.errorQuery !== undefined
            ? { kind: 'errors', errorQuery: slo.sli.errorQuery.trim(), totalQuery }
            : { kind: 'good', goodQuery: (slo.sli.goodQuery ?? '').trim(), totalQuery };
        const ratios = objectiveRatios(slo.objective, slo.window);
        const windows = alertWindowsFor(ratios.windowDays * msPerDay, catalog);
        // pagesCanFire reported a period without a table.
        if (windows === undefined) throw new Error(`no burn-rate table for ${slo.window}`);
        return {
          id: `${service.name}-${slo.name}`,
          service: service.name,
          name: slo.name,
          objective: slo.objective,
          ...ratios,
          window: slo.window,
          description: slo.description?.trim(),
          labels: { ...service.labels, ...slo.labels, ...extraLabels },
          sli,
          windows,
          alerting: { style: 'remediator' },
          infoLabels: {},
        };
      }),
    ),
  };
}
