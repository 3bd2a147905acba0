import { errorMessage } from '../core/errors/index.js';
import type { PlaybookSilence } from '../core/playbook.js';
import type { SilenceRecord } from '../core/run-data.js';
import { renderSilenceMatchers } from '../core/silence-matchers.js';
import { createRateLimited } from '../logging/rate-limited.js';
import type { RemediatorMetrics, silenceOperations } from '../metrics/create-metrics.js';
import type { AlertmanagerSilences, PostableSilence } from '../reconcile/alertmanager-silences.js';
import { pass, type Gate } from './gates/gate.js';
import type { RunContext } from './run-context.js';

/** One operation on a run's silence. */
export type SilenceOperation = (typeof silenceOperations)[number];

/** Where a run's silence is held: the Alertmanagers (an HA pair gossips silences), and the error counter. */
export interface RunSilenceDeps {
  alertmanagers: readonly AlertmanagerSilences[];
  metrics: Pick<RemediatorMetrics, 'silenceErrors'>;
}

/** The silence's createdBy, which tells remediator's silences apart in Alertmanager's UI. */
export const silenceCreator = 'remediator';

/**
 * The last gate: a run past every other one is active, so it silences its playbook's `silence:` matchers in
 * Alertmanager until it ends (succeeded, failed for good, skipped by a step, cancelled). A later attempt of the same
 * run (a backoff retry, a crash recovery, the queue UI's retry) extends the silence it recorded instead of adding a
 * second one; an attempt that ends without ending the run (a retry follows, a pause parks it) leaves it in place,
 * bounded by its endsAt. Nothing here blocks or fails the run: a failure is logged and counted, and the run goes on.
 */
export function createSilenceGate(deps: RunSilenceDeps, now: () => Date): Gate<RunContext> {
  // One line per operation a minute during an outage, with the count held back.
  const limits: Record<SilenceOperation, ReturnType<typeof createRateLimited>> = {
    create: createRateLimited(60_000),
    extend: createRateLimited(60_000),
    expire: createRateLimited(60_000),
  };
  const failed = (run: RunContext, operation: SilenceOperation, errors: readonly unknown[]): string => {
    deps.metrics.silenceErrors.inc({ operation });
    // Alertmanager names are URLs without credentials; the messages name them the same way.
    const reason = errors.map(errorMessage).join('; ') || 'no Alertmanager configured';
    limits[operation]((suppressed) => {
      run.logger.warn({ operation, reason, suppressed }, `could not ${operation} the run's silence: the run goes on without it`);
    });
    return reason;
  };
  // The Alertmanager that holds the silence first, then the others (they learn it by gossip).
  const ordered = (first: string | undefined) => [
    ...deps.alertmanagers.filter((am) => am.name === first),
    ...deps.alertmanagers.filter((am) => am.name !== first),
  ];
  const save = async (run: RunContext, record: SilenceRecord) => {
    run.data.silence = record;
    await run.checkpoint().catch((error: unknown) => {
      run.logger.warn({ err: error }, 'could not record the run silence in the run');
    });
  };

  const hold = async (run: RunContext, silence: PlaybookSilence): Promise<void> => {
    const startsAt = now();
    const endsAt = new Date(startsAt.getTime() + silence.durationMs).toISOString();
    let matchers;
    try {
      matchers = renderSilenceMatchers(silence.matchers, run.template);
    } catch (error) {
      return save(run, { state: 'failed', error: failed(run, 'create', [error]) });
    }
    const postable = {
      matchers,
      startsAt: startsAt.toISOString(),
      endsAt,
      createdBy: silenceCreator,
      comment: `remediator run ${run.id}: playbook ${run.playbook.name} on ${run.target}`,
    };
    // An attempt that died between asking and recording left a silence only its comment names.
    const earlier = run.data.silence?.state === 'creating' ? await find(run, postable.comment) : run.data.silence;
    if (earlier?.state === 'active' && earlier.id !== undefined) {
      const extended = await extend(run, earlier.id, earlier.alertmanager, { ...postable, id: earlier.id });
      // Created anew only when no Alertmanager holds it active any more (it lapsed, or none knows it): never two at once.
      if (extended !== 'lapsed') return;
    }
    await save(run, { state: 'creating' });
    const errors: unknown[] = [];
    for (const am of deps.alertmanagers) {
      try {
        const id = await am.post(postable);
        run.logger.info({ silence: id, alertmanager: am.name, endsAt }, 'silenced the alerts the run handles');
        await save(run, { id, state: 'active', alertmanager: am.name, endsAt });
        return;
      } catch (error) {
        errors.push(error);
      }
    }
    await save(run, { state: 'failed', error: failed(run, 'create', errors) });
  };

  /** The active silence of this run an earlier attempt created without recording it, if an Alertmanager lists one. */
  const find = async (run: RunContext, comment: string): Promise<SilenceRecord | undefined> => {
    for (const am of deps.alertmanagers) {
      try {
        const found = (await am.list()).find(
          (silence) => silence.status.state === 'active' && silence.createdBy === silenceCreator && silence.comment === comment,
        );
        if (found) return { id: found.id, state: 'active', alertmanager: am.name, endsAt: found.endsAt };
      } catch (error) {
        run.logger.debug({ err: error, alertmanager: am.name }, 'could not list silences');
      }
    }
    return undefined;
  };

  /** Pushes the endsAt of the silence `id` a later attempt recorded; 'lapsed' when it no longer silences anything. */
  const extend = async (run: RunContext, id: string, holder: string | undefined, postable: PostableSilence): Promise<'done' | 'lapsed'> => {
    const errors: unknown[] = [];
    for (const am of ordered(holder)) {
      let found;
      try {
        found = await am.get(id);
      } catch (error) {
        errors.push(error);
        continue;
      }
      if (found === undefined) continue;
      if (found.status.state !== 'active') return 'lapsed';
      try {
        // Alertmanager updates an active silence in place (same id) when its matchers and startsAt are unchanged.
        const updated = await am.post({ ...postable, startsAt: found.startsAt });
        await save(run, { id: updated, state: 'active', alertmanager: am.name, endsAt: postable.endsAt });
      } catch (error) {
        failed(run, 'extend', [error]);
      }
      return 'done';
    }
    // None could say: the recorded silence may still stand until its endsAt; keep it rather than add a second one.
    if (errors.length > 0) {
      failed(run, 'extend', errors);
      return 'done';
    }
    return 'lapsed';
  };

  const expire = async (run: RunContext): Promise<void> => {
    const record = run.data.silence;
    if (record?.state !== 'active' || record.id === undefined) return;
    const errors: unknown[] = [];
    for (const am of ordered(record.alertmanager)) {
      try {
        if ((await am.expire(record.id)) === 'gone') continue;
        run.logger.info({ silence: record.id, alertmanager: am.name }, 'expired the run silence');
        await save(run, { ...record, state: 'expired' });
        return;
      } catch (error) {
        errors.push(error);
      }
    }
    // No Alertmanager knows it any more: nothing is silenced.
    if (errors.length === 0) return save(run, { ...record, state: 'expired' });
    await save(run, { ...record, error: failed(run, 'expire', errors) });
  };

  return {
    name: 'silence',
    async check(run) {
      const silence = run.playbook.silence;
      // A dry run acts on nothing, so it has nothing to hide.
      if (silence === undefined || run.data.dryRun) return pass;
      if (deps.alertmanagers.length > 0) await hold(run, silence);
      else await save(run, { state: 'failed', error: failed(run, 'create', []) });
      return {
        kind: 'pass',
        release: async () => {
          if (run.ended()) await expire(run);
        },
      };
    },
  };
}
