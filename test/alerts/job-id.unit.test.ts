import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runJobId, type RunIdentity } from '../../src/alerts/job-id.js';

const base: RunIdentity = {
  playbook: 'stream-primary-restart',
  fingerprint: '4a5c3e1f00b2d9e7',
  startsAt: '2026-11-22T03:00:00Z',
  status: 'firing',
};

describe('runJobId', () => {
  test('the same identity always gives the same id', () => {
    assert.equal(runJobId({ ...base }), runJobId({ ...base }));
  });

  test('a different playbook, fingerprint, start or status gives a different id', () => {
    const id = runJobId(base);
    const variants: RunIdentity[] = [
      { ...base, playbook: 'instance-down-notify' },
      { ...base, fingerprint: '4a5c3e1f00b2d9e8' },
      { ...base, startsAt: '2026-11-22T03:00:01Z' },
      { ...base, status: 'resolved' },
    ];
    const ids = variants.map(runJobId);
    for (const other of ids) assert.notEqual(other, id);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('a start time written with nanoseconds is the same episode as one without', () => {
    const plain = runJobId({ ...base, startsAt: '2026-11-22T03:00:00Z' });
    assert.equal(runJobId({ ...base, startsAt: '2026-11-22T03:00:00.000000000Z' }), plain);
    assert.equal(runJobId({ ...base, startsAt: '2026-11-22T03:00:00.000Z' }), plain);
    assert.equal(runJobId({ ...base, startsAt: '2026-11-22T04:00:00+01:00' }), plain);
  });

  test('the parts cannot run into each other to fake another identity', () => {
    const a = runJobId({ ...base, playbook: 'ab', fingerprint: 'c' });
    const b = runJobId({ ...base, playbook: 'a', fingerprint: 'bc' });
    assert.notEqual(a, b);
  });

  test('the id never contains a colon, even when the fingerprint does', () => {
    assert.doesNotMatch(runJobId(base), /:/);
    assert.doesNotMatch(runJobId({ ...base, fingerprint: 'a:b:c' }), /:/);
  });

  test('the id is never all digits, even for a numeric fingerprint', () => {
    assert.doesNotMatch(runJobId({ ...base, fingerprint: '1234567890' }), /^\d+$/);
    assert.doesNotMatch(runJobId({ ...base, playbook: 'a', fingerprint: '0' }), /^\d+$/);
  });

  test('the id starts with the playbook name', () => {
    assert.ok(runJobId(base).startsWith('stream-primary-restart-'));
    assert.ok(runJobId({ ...base, playbook: 'x' }).startsWith('x-'));
  });
});
