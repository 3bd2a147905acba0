import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDrillBlockers } from '../../src/drills/drill-blockers.js';
import type { OpenAlerts } from '../../src/drills/open-alerts.js';
import { openAlertsFromAlertmanager } from '../../src/drills/open-alerts.js';
import type { TargetHold } from '../../src/state/target-holds.js';
import { weeklyCacheDrill } from './drill-fixture.js';

const drill = weeklyCacheDrill;

function blockers(world: { paused?: boolean; hold?: TargetHold; acting?: boolean; playbooks?: string[] } = {}) {
  return createDrillBlockers({
    playbooks: new Set(world.playbooks ?? ['remediator-switchover-redis']),
    isPaused: () => Promise.resolve(world.paused ?? false),
    holds: { get: (target) => Promise.resolve(target === 'cache' ? world.hold : undefined) },
    isActing: () => Promise.resolve(world.acting ?? false),
  });
}
const none: () => Promise<OpenAlerts> = () => Promise.resolve({ known: true, labels: [] });
const alerts =
  (...labels: Record<string, string>[]) =>
  () =>
    Promise.resolve<OpenAlerts>({ known: true, labels });

describe('what keeps a drill from starting', () => {
  test('nothing: a loaded playbook, no pause, no hold, no alert open on the cluster, no run acting on it', async () => {
    assert.equal(await blockers()(drill, none), undefined);
    assert.equal(await blockers()(drill, alerts({ alertname: 'InstanceDown', cluster: 'orders' })), undefined, 'another cluster');
  });

  test('each condition gives its reason', async () => {
    assert.equal(await blockers({ playbooks: [] })(drill, none), 'the built-in playbook remediator-switchover-redis is not loaded');
    assert.equal(await blockers({ paused: true })(drill, none), 'remediation is paused');
    const hold = { reason: 'kernel patch', until: '2026-12-03T20:00:00.000Z', by: 'admin' };
    assert.equal(await blockers({ hold })(drill, none), 'cluster cache is held until 2026-12-03T20:00:00.000Z by admin: kernel patch');
    assert.equal(
      await blockers()(drill, alerts({ alertname: 'ReplicationLagHigh', cluster: 'cache' })),
      'alert ReplicationLagHigh is open on cluster cache',
    );
    assert.equal(await blockers({ acting: true })(drill, none), 'a run is acting on cluster cache');
  });

  test('an Alertmanager that did not answer blocks the drill: no alert open cannot be told', async () => {
    const view = openAlertsFromAlertmanager({ complete: false, active: [] });
    assert.equal(
      await blockers()(drill, () => Promise.resolve(view)),
      'not every Alertmanager answered: it cannot be told that no alert is open on the cluster',
    );
  });

  test('the overdue alert of the drill itself does not block it (the drill is what clears it)', async () => {
    assert.equal(
      await blockers()(drill, alerts({ alertname: 'RemediatorDrillOverdue', cluster: 'cache', drill: 'cache-weekly' })),
      undefined,
    );
  });

  test('the open alerts are not read when an earlier condition already blocks the drill', async () => {
    let read = 0;
    const counting = () => {
      read++;
      return Promise.resolve<OpenAlerts>({ known: true, labels: [] });
    };
    await blockers({ paused: true })(drill, counting);
    assert.equal(read, 0);
  });
});
