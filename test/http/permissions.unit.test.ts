import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requirementOf } from '../../src/http/permissions.js';

const board = '/queues/api/queues';

describe('the permission table answers what a request needs', () => {
  test('a path two lines match needs a role both allow, whichever handler express picks', () => {
    // A job named "clean" retried, or the jobs in state "retry" cleaned: operator or admin, and admin only.
    assert.deepEqual(requirementOf('PUT', `${board}/q/clean/retry`).roles, ['admin']);
    assert.deepEqual(requirementOf('PUT', `${board}/q/j1/retry`).roles, ['operator', 'admin']);
  });

  test('another case or a trailing slash needs what the route needs', () => {
    assert.deepEqual(requirementOf('POST', '/API/Runs/x/Approve/').roles, ['approver', 'admin']);
    assert.deepEqual(requirementOf('post', '/api/pause').roles, ['operator', 'admin']);
  });

  test('what no line names is a read for everyone (GET, HEAD, OPTIONS) and otherwise for admins only', () => {
    assert.deepEqual(requirementOf('GET', '/queues/static/main.js').roles, ['viewer', 'operator', 'approver', 'admin']);
    assert.deepEqual(requirementOf('HEAD', '/api/runs').roles, ['viewer', 'operator', 'approver', 'admin']);
    assert.deepEqual(requirementOf('OPTIONS', '/api/pause').roles, ['viewer', 'operator', 'approver', 'admin']);
    assert.deepEqual(requirementOf('POST', '/api/some-new-route').roles, ['admin']);
    assert.deepEqual(requirementOf('DELETE', `${board}/q/j1`).roles, ['admin']);
  });
});
