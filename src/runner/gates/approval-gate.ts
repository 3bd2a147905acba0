import type { PlaybookStep } from '../../core/playbook.js';
import type { SkipRecord, StepRecord } from '../../core/run-data.js';
import type { RunApprovals } from '../../state/run-approvals.js';
import { pass, type Gate, type GateRun, type GateVerdict } from './gate.js';

/** Runs the approval's notify: steps into their records, checkpointed; throws the first failure. */
export type NotifySteps<R extends GateRun> = (run: R, steps: readonly PlaybookStep[], records: StepRecord[]) => Promise<void>;

/**
 * Approval: the first attempt records the request, notifies, and waits in the delayed set until the deadline; an
 * API or queue-UI decision promotes the job early. A rejection, or a timeout with `onTimeout: abort`, skips the run.
 */
export function createApprovalGate<R extends GateRun>(deps: {
  approvals: Pick<RunApprovals, 'get'> | undefined;
  notify: NotifySteps<R>;
  now: () => Date;
}): Gate<R> {
  const { now } = deps;
  return {
    name: 'approval',
    async check(run): Promise<GateVerdict> {
      const approval = run.playbook.approval;
      if (!approval) return pass;
      const { data, logger } = run;
      if (!data.approval) {
        const requestedAt = now();
        data.approval = {
          state: 'pending',
          requestedAt: requestedAt.toISOString(),
          deadline: new Date(requestedAt.getTime() + approval.timeoutMs).toISOString(),
          onTimeout: approval.onTimeout,
          notifySteps: [],
        };
        await run.checkpoint();
        logger.info({ deadline: data.approval.deadline }, data.dryRun ? 'dry run: would wait for approval' : 'run waits for approval');
      }
      const record = data.approval;
      // A dry run makes the decision a live run would up to here, and does not wait for a person.
      if (data.dryRun || record.state !== 'pending') return decided();
      const decision = await deps.approvals?.get(run.id);
      if (decision) {
        Object.assign(record, {
          state: decision.decision,
          by: decision.by,
          via: decision.via,
          decidedAt: decision.at,
          ...(decision.comment === undefined ? {} : { comment: decision.comment }),
        });
      } else if (now().getTime() >= Date.parse(record.deadline)) {
        Object.assign(record, { state: 'timed-out', decidedAt: now().toISOString() });
      } else {
        if (record.notifySteps.length < approval.notify.length) {
          // Telling someone is best effort: a failed notification must not fail the run nobody has decided on yet.
          await deps.notify(run, approval.notify, record.notifySteps).catch((error: unknown) => {
            logger.warn({ err: error }, 'an approval notification failed; the run still waits for a decision');
          });
        }
        return {
          kind: 'wait',
          untilMs: Date.parse(record.deadline),
          why: 'waiting for approval',
          // A decision made while this attempt was active (the notification above takes seconds, and that is when
          // people click) could not wake a job that was not delayed yet: look again now that it is.
          afterMove: async () => {
            if (await deps.approvals?.get(run.id)) await run.promote().catch(() => undefined);
          },
        };
      }
      await run.checkpoint();
      logger.info({ approval: { state: record.state, by: record.by, via: record.via } }, 'approval decided');
      return decided();

      function decided(): GateVerdict {
        const skip = skipFor(record);
        return skip ? { kind: 'skip', skip } : pass;
      }
    },
  };

  function skipFor(record: NonNullable<GateRun['data']['approval']>): SkipRecord | undefined {
    if (record.state === 'rejected')
      return {
        kind: 'approval-rejected',
        reason: `rejected by ${record.by ?? 'someone'} via ${record.via ?? 'api'}${record.comment ? `: ${record.comment}` : ''}`,
        at: now().toISOString(),
      };
    if (record.state === 'timed-out' && record.onTimeout === 'abort')
      return { kind: 'approval-timeout', reason: `nobody approved by ${record.deadline} (onTimeout: abort)`, at: now().toISOString() };
    return undefined;
  }
}
