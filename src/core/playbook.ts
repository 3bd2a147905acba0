import type { LabelMatcher } from './label-matcher.js';
import type { SilenceMatcherTemplate } from './silence-matchers.js';

/** A step ready to run: its action is known and its raw `with:` block passed the load-time checks. */
export interface PlaybookStep {
  readonly name: string;
  readonly action: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
}

/** A PromQL precondition of a run. */
export interface PlaybookGuard {
  readonly name: string;
  readonly description?: string;
  readonly query: string;
  readonly expect: 'true' | 'false';
  readonly onError: 'skip' | 'proceed';
}

/** Flap protection and run budget per playbook and target. */
export interface PlaybookBudget {
  readonly cooldownMs: number;
  readonly maxRuns: number;
  readonly windowMs: number;
}

/** Human approval before the steps run. */
export interface PlaybookApproval {
  readonly timeoutMs: number;
  readonly onTimeout: 'abort' | 'proceed';
  readonly notify: readonly PlaybookStep[];
  /** Who the signed approve/reject links are issued to; absent: no links. */
  readonly linkUser?: string;
}

/** The Alertmanager silence a run holds while it is active (past its gates, until it ends). */
export interface PlaybookSilence {
  /** The matchers as written, for messages. */
  readonly match: string;
  readonly matchers: readonly SilenceMatcherTemplate[];
  /** The silence's endsAt is this far ahead of each attempt's start: it lapses by itself if remediator dies mid-run. */
  readonly durationMs: number;
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
  readonly mode: 'live' | 'dry-run';
  readonly rtoMs?: number;
  readonly guards: readonly PlaybookGuard[];
  readonly budget?: PlaybookBudget;
  /** Present only when approval is required. */
  readonly approval?: PlaybookApproval;
  /** Present only when the playbook silences alerts while its runs are active. */
  readonly silence?: PlaybookSilence;
  readonly steps: readonly PlaybookStep[];
  /** Notification steps run when a run is skipped by a guard, a budget or an approval decision. */
  readonly skipped?: readonly PlaybookStep[];
  /** Failback steps, run once the alert has stayed resolved for `delayMs`. */
  readonly resolved?: { readonly delayMs: number; readonly steps: readonly PlaybookStep[] };
}
