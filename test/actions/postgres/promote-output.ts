/** The output of a postgres.promote run, as the tests read it (docs/actions.md#postgrespromote). */
export interface PromoteOutput {
  /** Null only when no primary answered and `promote: false` kept the step from choosing one. */
  primary: string | null;
  previous: string | null;
  changed: boolean;
  promoted: boolean;
  fenced: string[];
  repointed: string[];
  resumed: string[];
  diverged: string[];
  timeline: number | null;
  unreachable: string[];
  confirmation: { confirmed: boolean } | null;
  protection: { set: boolean; synchronousStandbyNames: string } | null;
  /** Why nothing was done (`promote: false` with no primary answering). */
  reason?: string;
}

/** The fields of an output that changed nothing: nothing promoted, fenced, repointed, resumed, confirmed or protected. */
export const noChange = {
  changed: false,
  promoted: false,
  fenced: [],
  repointed: [],
  resumed: [],
  diverged: [],
  confirmation: null,
  protection: null,
} satisfies Partial<PromoteOutput>;
