import express, { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { syntheticAlertPayload } from '../alerts/synthetic-alert.js';
import type { Playbook } from '../core/playbook.js';
import type { RunData } from '../core/run-data.js';
import type { InventoryCluster } from '../inventory/inventory.js';
import { switchoverAlertName, switchoverPlaybookName } from '../core/built-in-names.js';
import type { AuditLog } from '../state/audit-log.js';
import { sendError } from './http-errors.js';
import { identityOf } from './identity.js';

/** How far ahead a switchover may be planned: a forgotten one must not fire months later. */
const maxAheadMs = 7 * 86_400_000;
/** A time this far in the past is a mistake (a stale script), not "now". */
const maxBehindMs = 60_000;

const switchoverBody = z
  .object({
    /** The member to promote; default: the best caught-up one. */
    to: z.string().min(1).max(256).optional(),
    /** When (RFC 3339); default now. */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const pendingStates = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/**
 * Planned switchover, asked for by an operator: `POST /api/clusters/:cluster/switchover {to?, at?}` queues a run of the
 * cluster's built-in switchover playbook through the ordinary intake (recorded, under the cluster's lease, dry-run
 * aware, audited; no budget). One at a time per cluster: a second request while one is queued or running is a 409, so
 * a double click cannot switch over and back. `DELETE` withdraws one that has not started.
 */
export function createSwitchoverRouter(deps: {
  clusters: ReadonlyMap<string, InventoryCluster>;
  /** Must know the built-in playbooks (a webhook's intake does not). */
  intake: AlertIntake;
  playbooks: readonly Playbook[];
  queue: Queue<RunData>;
  redis: Redis;
  prefix: string;
  audit: AuditLog;
  logger: Logger;
  now?: () => number;
}): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  const pendingKey = (cluster: string) => `${deps.prefix}:switchover:${cluster}`;
  /** The job id of the switchover queued or running on `cluster`, if any. */
  const pending = async (cluster: string): Promise<string | undefined> => {
    const jobId = await deps.redis.get(pendingKey(cluster));
    if (jobId === null) return undefined;
    return pendingStates.has(await deps.queue.getJobState(jobId)) ? jobId : undefined;
  };

  router.post('/api/clusters/:cluster/switchover', express.json({ limit: '4kb' }), async (req, res) => {
    const by = identityOf(res).name;
    const name = req.params.cluster;
    const cluster = deps.clusters.get(name);
    if (!cluster) {
      sendError(res, 404, 'CLUSTER_NOT_FOUND', `no cluster ${name} in the inventory`);
      return;
    }
    const playbook = deps.playbooks.find((candidate) => candidate.name === switchoverPlaybookName(cluster.kind));
    if (!playbook) {
      sendError(
        res,
        400,
        'SWITCHOVER_UNSUPPORTED',
        `cluster ${name} is of kind ${cluster.kind}: only redis and postgres clusters switch over`,
      );
      return;
    }
    const parsed = switchoverBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      sendError(res, 400, 'INVALID_BODY', z.prettifyError(parsed.error));
      return;
    }
    const { to, at } = parsed.data;
    // A label value is data: it must name a member of this cluster, and reaches the action only as that name.
    if (to !== undefined && !cluster.members.some((member) => member.name === to)) {
      sendError(
        res,
        400,
        'UNKNOWN_MEMBER',
        `${to} is not a member of ${name} (${cluster.members.map((member) => member.name).join(', ')})`,
      );
      return;
    }
    const delayMs = at === undefined ? 0 : Date.parse(at) - now();
    if (delayMs > maxAheadMs || delayMs < -maxBehindMs) {
      sendError(res, 400, 'INVALID_TIME', `at must be within the next 7 days (it is ${Math.round(delayMs / 1000)} s from now)`);
      return;
    }
    const existing = await pending(name);
    if (existing !== undefined) {
      await deps.audit.append({
        user: by,
        action: 'switchover',
        target: name,
        outcome: 'refused',
        detail: { to, at, pending: existing },
      });
      sendError(res, 409, 'SWITCHOVER_PENDING', `a switchover of ${name} is already queued or running: ${existing}`, { jobId: existing });
      return;
    }
    const labels: Record<string, string> = {
      alertname: switchoverAlertName,
      cluster: name,
      service: cluster.kind,
      ...(to === undefined ? {} : { to }),
    };
    const result = await deps.intake.accept(syntheticAlertPayload({ receiver: `api:${by}`, labels, startsAt: new Date(now()) }), {
      source: 'manual',
      manual: { playbook: playbook.name, by, delayMs: Math.max(0, delayMs) },
    });
    const runs = result.runs.map(({ jobId, notBefore }) => ({ jobId, ...(notBefore === undefined ? {} : { notBefore }) }));
    const jobId = runs[0]?.jobId;
    // Kept past the run's start: what matters is whether that job is still pending, which the queue says.
    if (jobId !== undefined) await deps.redis.set(pendingKey(name), jobId, 'PX', Math.max(0, delayMs) + 86_400_000);
    await deps.audit.append({ user: by, action: 'switchover', target: name, outcome: 'enqueued', detail: { to, at, jobId } });
    deps.logger.warn({ cluster: name, to, at, by, jobId }, 'switchover requested');
    res.status(202).json({ cluster: name, ...(to === undefined ? {} : { to }), runs });
  });

  router.delete('/api/clusters/:cluster/switchover', async (req, res) => {
    const by = identityOf(res).name;
    const name = req.params.cluster;
    const jobId = await pending(name);
    const job = jobId === undefined ? undefined : await deps.queue.getJob(jobId);
    const state = job ? await job.getState() : undefined;
    if (!job || (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized')) {
      await deps.audit.append({ user: by, action: 'switchover-cancel', target: name, outcome: state ?? 'none-pending' });
      sendError(
        res,
        state === 'active' ? 409 : 404,
        state === 'active' ? 'SWITCHOVER_RUNNING' : 'SWITCHOVER_NOT_FOUND',
        state === 'active' ? `the switchover of ${name} is running: it cannot be withdrawn` : `no switchover of ${name} is waiting`,
      );
      return;
    }
    await job.remove();
    await deps.redis.del(pendingKey(name));
    await deps.audit.append({ user: by, action: 'switchover-cancel', target: name, outcome: 'withdrawn', detail: { jobId } });
    deps.logger.warn({ cluster: name, jobId, by }, 'switchover withdrawn');
    res.json({ cluster: name, withdrawn: jobId });
  });
  return router;
}
