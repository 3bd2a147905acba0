/** How an SLI counts: bad events against all events, or good events against all events (Sloth's `events`). */
export type SliQueries =
  | { readonly kind: 'errors'; readonly errorQuery: string; readonly totalQuery: string }
  | { readonly kind: 'good'; readonly goodQuery: string; readonly totalQuery: string };

/** One SLO of rules/slos.yaml, validated and normalised. */
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
  /** The SLO window, e.g. `30d`, and the same in days. */
  readonly window: string;
  readonly windowDays: number;
  readonly description: string | undefined;
  /** The service's labels with the SLO's on top. */
  readonly labels: Readonly<Record<string, string>>;
  readonly sli: SliQueries;
}

/** A recording rule the SLIs build on. */
export interface SloIndicator {
  readonly record: string;
  readonly expr: string;
  readonly description: string | undefined;
}

/** Everything rules/slos.yaml declares. */
export interface SloDefinitions {
  readonly indicators: readonly SloIndicator[];
  readonly slos: readonly SloSpec[];
}
