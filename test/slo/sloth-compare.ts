import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { builtInAlertWindows, type AlertWindows } from '../../tools/slo/burn-rate-windows.js';
import { loadAlertWindowsDir } from '../../tools/slo/load-alert-windows.js';
import { loadSloInputs } from '../../tools/slo/load-slo-inputs.js';
import { sloRuleGroups, type AlertingRule, type RecordingRule, type RuleGroup } from '../../tools/slo/slo-rules.js';
import { formatProblem } from '../../src/sources/index.js';

/** Sloth's examples and generated files, copied from its repository (see sloth-examples/NOTICE). */
export const examplesDir = fileURLToPath(new URL('sloth-examples/', import.meta.url));

/** A rule as both generators' files hold it. */
export type Rule = { record?: string; alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> };
/** A rule group as both generators' files hold it. */
export type Group = { name: string; rules: Rule[] };

/** The groups of a Sloth output: rule files (`groups:`) and PrometheusRule objects (`spec.groups`), every document. */
export async function slothGroups(file: string): Promise<Group[]> {
  const text = await readFile(join(examplesDir, file), 'utf8');
  return parseAllDocuments(text).flatMap((doc) => {
    const value = doc.toJS() as { groups?: Group[]; spec?: { groups?: Group[] } } | null;
    return value?.groups ?? value?.spec?.groups ?? [];
  });
}

/** Sloth's generator flags that change the output. */
export interface SlothFlags {
  readonly extraLabels?: Record<string, string>;
  readonly defaultPeriodMs?: number;
  /** A directory under sloth-examples/ (Sloth's --slo-period-windows-path). */
  readonly windowsDir?: string;
}

/** remediator's groups for `inputs` (files under sloth-examples/), as `slo generate` makes them. */
export async function ourGroups(inputs: readonly string[], flags: SlothFlags = {}): Promise<RuleGroup[]> {
  let catalog: readonly AlertWindows[] = builtInAlertWindows;
  if (flags.windowsDir !== undefined) {
    const loaded = await loadAlertWindowsDir(join(examplesDir, flags.windowsDir), flags.windowsDir);
    if (!loaded.success) assert.fail(loaded.problems.map(formatProblem).join('\n'));
    catalog = loaded.windows;
  }
  const loaded = await loadSloInputs(
    inputs.map((input) => ({ path: join(examplesDir, input), display: input })),
    { catalog, defaultPeriodMs: flags.defaultPeriodMs ?? 30 * 24 * 3_600_000, extraLabels: flags.extraLabels ?? {} },
  );
  if (!loaded.success) assert.fail(loaded.problems.map(formatProblem).join('\n'));
  return sloRuleGroups(loaded.definitions);
}

/** Shortest decimal of a number at 12 significant digits: 0.9990000000000001 → 0.999, 1.4000000000000001 → 1.4. */
const decimal = (value: number) => String(Number(value.toPrecision(12)));

/**
 * An expression with the differences from Sloth that docs/slos-and-dashboards.md lists ("Differences from Sloth")
 * taken out, then every whitespace: (1) the `> 0` on the events denominator; (2) float noise in Sloth's objective
 * and budget (`1-0.9990000000000001`, `0.0009999999999999432` are 0.001 here); (3) a factor below 1 is 1 here.
 */
export function comparable(expr: string, side: 'ours' | 'sloth'): string {
  let text = expr.replace(/\s+/g, '');
  if (side === 'ours') text = text.replace(/\/\(\((.*)\)>0\)$/, '/($1)');
  text = text.replace(/vector\(1-([0-9.]+)\)/g, (_all, objective: string) => `vector(${decimal(1 - Number(objective))})`);
  text = text.replace(/\d+\.\d+/g, (number) => decimal(Number(number)));
  if (side === 'sloth') text = text.replace(/>\((0\.\d+)\*/g, '>(1*');
  return text;
}

/** The rule's name, whichever kind it is. */
export const ruleName = (rule: Rule | RecordingRule | AlertingRule) =>
  'record' in rule && rule.record ? rule.record : 'alert' in rule ? rule.alert : '';
