/** How the variables of an expression are written, so they can be replaced by stand-ins before parsing. */
export type VariableSyntax = 'none' | 'playbook-template' | 'grafana';

/** One PromQL expression found in a project file. */
export interface LintExpression {
  readonly file: string;
  /** What it is, for messages: `alert InstanceDown`, `guard lag-measured`, `panel "Members" target A`. */
  readonly what: string;
  readonly text: string;
  readonly variables: VariableSyntax;
  /** The line of character `offset` of the text (the expression's first line when unknown). */
  readonly lineAt: (offset: number) => number | undefined;
}

/** An alerting rule as remediator sees its alerts: the name and the labels every alert of it carries. */
export interface AlertRuleInfo {
  readonly file: string;
  readonly line: number | undefined;
  readonly name: string;
  /** alertname and the rule's `labels:`; a templated value (`{{ $labels.x }}`) is undefined: known only at run time. */
  readonly labels: ReadonlyMap<string, string | undefined>;
  readonly annotations: Readonly<Record<string, string>>;
}
