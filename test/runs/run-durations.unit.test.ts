import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runDurations } from '../../src/runs/run-durations.js';

const run = (startsAt: string) => ({
  alert: { fingerprint: 'f', status: 'firing' as const, labels: {}, annotations: {}, startsAt },
  receivedAt: '2026-11-22T03:00:10.000Z',
  firstStartedAt: '2026-11-22T03:00:11.000Z',
  finishedAt: '2026-11-22T03:00:14.000Z',
});

describe('runDurations', () => {
  test("measures detection and recovery from the alert's startsAt", () => {
    assert.deepEqual(runDurations(run('2026-11-22T03:00:00.000Z'), true), {
      detectionSeconds: 10,
      dispatchSeconds: 1,
      actionSeconds: 3,
      recoverySeconds: 14,
    });
  });

  test('an alert that starts after its webhook arrived (clock skew, a bad sender) records no detection and no recovery, only what remediator timed itself', () => {
    assert.deepEqual(runDurations(run('2026-11-22T03:00:12.000Z'), true), { dispatchSeconds: 1, actionSeconds: 3 });
    assert.deepEqual(runDurations(run('2126-11-22T03:00:00.000Z'), true), { dispatchSeconds: 1, actionSeconds: 3 });
  });
});
