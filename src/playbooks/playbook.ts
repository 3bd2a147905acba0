import type { LabelMatcher } from '../alerts/label-matcher.js';

/** A step ready to run: its action is known and its raw `with:` block passed the load-time checks. */
export interface PlaybookStep {
  readonly name: string;
  readonly action: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
}

/** A validated playbook. */
export interface Playbook {
  readonly name: string;
  readonly description?: string;
  readonly file: string;
  readonly match: string;
  readonly matchers: readonly LabelMatcher[];
  readonly on: 'firing' | 'resolved';
  readonly target: string;
  readonly retry: { readonly attempts: number; readonly backoffMs: number };
  readonly steps: readonly PlaybookStep[];
  /** Failback steps, run once the alert has stayed resolved for `delayMs`. */
  readonly resolved?: { readonly delayMs: number; readonly steps: readonly PlaybookStep[] };
}
