import { escapePromqlString } from '../../src/core/promql/unquote.js';
import type { SloSpec } from './slo.js';

/** A Prometheus recording rule. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A Prometheus alerting rule (no `for:`: the short window already makes the alert reset quickly). */
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A rule group, with the comment written above it. */
export interface RuleGroup {
  readonly name: string;
  readonly comment?: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/** Labels sorted by name, as Sloth writes them. */
export function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/** The labels every series of the SLO carries: the file's labels and Sloth's ids. */
export function sloLabels(slo: SloSpec): Record<string, string> {
  return sortedLabels({ ...slo.labels, sloth_id: slo.id, sloth_service: slo.service, sloth_slo: slo.name });
}

/** `{sloth_id="…", sloth_service="…", sloth_slo="…"}`. */
export function selector(slo: SloSpec): string {
  const quoted = (value: string) => `"${escapePromqlString(value)}"`;
  return `{sloth_id=${quoted(slo.id)}, sloth_service=${quoted(slo.service)}, sloth_slo=${quoted(slo.name)}}`;
}
