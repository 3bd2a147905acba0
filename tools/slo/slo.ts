import type { AlertWindows, Severity } from './burn-rate-windows.js';

/**
 * How an SLI counts: bad events against all events, good events against all events (Sloth's `events`, and
 * remediator's goodQuery), or an error ratio query as it is (Sloth's `raw`).
 */
export type SliQueries =
  | { readonly kind: 'errors'; readonly errorQuery: string; readonly totalQuery: string }
  | { readonly kind: 'good'; readonly goodQuery: string; readonly totalQuery: string }
  | { readonly kind: 'raw'; readonly errorRatioQuery: string };

/** One alert of a Sloth spec: its name, labels and annotations (the spec's `alerting` merged with the severity's). */
export interface SlothAlert {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * How the alerts are written: rules/slos.yaml's (SLOErrorBudgetBurnPage/Ticket, severity, remediation: none,
 * annotations written from the SLO), or a Sloth spec's (its names, labels and annotations; a disabled one absent).
 */
export type SloAlerting =
  { readonly style: 'remediator' } | { readonly style: 'sloth'; readonly alerts: Readonly<Partial<Record<Severity, SlothAlert>>> };

/** One SLO, from rules/slos.yaml or a Sloth spec, validated and normalised. */
export interface SloSpec {
  /** `<service>-<slo>`: Sloth's `sloth_id`. */
  readonly id: string;
  readonly service: string;
  readonly name: string;
  /** Percent, as written (99.95). */
  readonly objective: number;
  /** objective / 100, computed exactly in decimal (0.9995). */
  readonly objectiveRatio: number;
  /** 1 - objectiveRatio, computed exactly in decimal (0.0005, not 0.000499999…). */
  readonly errorBudget: number;
  /** The SLO period as its series name it (`30d`; `4w` for a Sloth spec's 28d, as Sloth prints it), and in days. */
  readonly window: string;
  readonly windowDays: number;
  readonly description: string | undefined;
  /** The service's labels with the SLO's on top (and the generator's extra labels over both). */
  readonly labels: Readonly<Record<string, string>>;
  readonly sli: SliQueries;
  /** The burn-rate table of the period. */
  readonly windows: AlertWindows;
  readonly alerting: SloAlerting;
  /** Labels only sloth_slo_info carries (Sloth's sloth_mode, sloth_spec, sloth_version), for Sloth specs. */
  readonly infoLabels: Readonly<Record<string, string>>;
}

/** A recording rule the SLIs build on. */
export interface SloIndicator {
  readonly record: string;
  readonly expr: string;
  readonly description: string | undefined;
}

/** Everything the SLO inputs declare. */
export interface SloDefinitions {
  readonly indicators: readonly SloIndicator[];
  readonly slos: readonly SloSpec[];
}
