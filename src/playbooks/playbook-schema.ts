import { z } from 'zod';
import { durationSchema } from '../core/duration.js';

const slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -, starting with a letter (at most 63)');

/** One step as written in YAML. `with:` is checked against the action's own schema by the loader. */
export const stepSchema = z.strictObject({
  name: slug,
  action: z.string().min(1),
  with: z.record(z.string(), z.unknown()).default({}),
  timeout: durationSchema.optional(),
});

/**
 * A PromQL precondition checked just before a run acts. Templates in `query` are rendered with PromQL escaping,
 * so a label value cannot change the query.
 */
export const guardSchema = z.strictObject({
  name: slug,
  description: z.string().optional(),
  query: z.string().min(1),
  /** `true`: the guard passes when the query returns a result (non-empty vector, non-zero scalar); `false`: when it returns none. */
  expect: z.enum(['true', 'false']).default('true'),
  /** When Prometheus is unreachable or the query fails: `skip` the run (safe default) or `proceed` without this guard. */
  onError: z.enum(['skip', 'proceed']).default('skip'),
});

/** Per playbook and target: flap protection and a run budget. Enforced in Redis, so it holds across replicas. */
export const budgetSchema = z
  .strictObject({
    /** After a run on a target ends, further runs of this playbook on it are skipped for this long. */
    cooldown: durationSchema.default(0),
    /** At most this many runs of this playbook on one target per `window` (0: no limit). */
    maxRuns: z.number().int().min(0).default(0),
    window: durationSchema.default(3_600_000),
  })
  .refine((budget) => budget.maxRuns === 0 || budget.window > 0, {
    message: 'window must be positive when maxRuns is set',
    path: ['window'],
  });

/** Human approval before a run acts. The run waits in the delayed set, holding no worker slot. */
export const approvalSchema = z.strictObject({
  required: z.boolean().default(true),
  timeout: durationSchema.default(600_000),
  /** What happens when nobody decided within `timeout`: `abort` (skip the run) or `proceed`. */
  onTimeout: z.enum(['abort', 'proceed']).default('abort'),
  /** Steps run once when approval is requested (tell someone: email, chat webhook). */
  notify: z.array(stepSchema).optional(),
  /**
   * The person the signed approve/reject links in `notify:` are issued to ({{ approval.approveUrl }}): the name
   * recorded as deciding when one is used. Without it no links are issued.
   */
  linkUser: z.string().min(1).max(256).optional(),
});

/** An Alertmanager silence held while a run is active: created once the run is past its gates, expired when it ends. */
export const silenceSchema = z.strictObject({
  /** PromQL-style label matchers of the alerts to silence; references are rendered from the alert (inside quoted values only). */
  matchers: z.string().min(1),
  /** The silence's endsAt, from each attempt's start: an upper bound, so it lapses by itself if remediator dies mid-run. */
  duration: durationSchema.refine((ms) => ms >= 1000, 'must be at least 1s').default(600_000),
});

/** A playbook file as written (strict: a typo'd key is an error). */
export const playbookFileSchema = z.strictObject({
  name: slug,
  description: z.string().optional(),
  /** PromQL label matchers selecting the alerts this playbook handles. */
  match: z.string().min(1),
  on: z.enum(['firing', 'resolved']).default('firing'),
  /** What the run acts on; one run per target at a time. */
  target: z.string().min(1).default('{{ alert.fingerprint }}'),
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(50).default(3),
      backoff: durationSchema.default(5000),
    })
    .default({ attempts: 3, backoff: 5000 }),
  /** `dry-run`: matching, guards and budgets as live, each step recorded as "would run" with its parameters; no side effects. */
  mode: z.enum(['live', 'dry-run']).default('live'),
  /** Recovery time objective: alert startsAt → verified recovery. Exported as a gauge; a slower (or failed) run counts as a breach. */
  rto: durationSchema.optional(),
  guards: z.array(guardSchema).default([]),
  budget: budgetSchema.optional(),
  approval: approvalSchema.optional(),
  /** Silence these alerts in Alertmanager while a run is active (needs ALERTMANAGER_URL). */
  silence: silenceSchema.optional(),
  steps: z.array(stepSchema).min(1, 'a playbook needs at least one step'),
  /** Steps run when a run is skipped (guard failed, over budget, approval rejected or timed out): tell someone. */
  skipped: z.strictObject({ steps: z.array(stepSchema).min(1, 'skipped: needs at least one step') }).optional(),
  /** Failback: steps run when the alert resolves and stays resolved for `delay` (cancelled if it fires again). */
  resolved: z
    .strictObject({
      delay: durationSchema.default(60_000), // the seeds' 60 s grace period
      steps: z.array(stepSchema).min(1, 'resolved: needs at least one step'),
    })
    .optional(),
});

/** A playbook file after schema validation. */
export type PlaybookFile = z.output<typeof playbookFileSchema>;
