import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHaproxyServerAction } from '../../src/actions/haproxy-server-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { renderValue } from '../../src/core/template/template.js';
import { appError } from '../helpers/action-run.js';

describe('haproxy.server action parameters', () => {
  const action = createHaproxyServerAction();

  test('exactly one of socket and address is required', () => {
    const base = { backend: 'app', server: 's1', state: 'drain' };
    assert.equal(action.schema.safeParse({ ...base, socket: '/run/haproxy.sock' }).success, true);
    assert.equal(action.schema.safeParse({ ...base, address: '127.0.0.1:9999' }).success, true);
    const both = action.schema.safeParse({ ...base, socket: '/run/haproxy.sock', address: '127.0.0.1:9999' });
    assert.ok(!both.success);
    assert.match(JSON.stringify(both.error.issues), /exactly one of socket or address/);
    const neither = action.schema.safeParse(base);
    assert.ok(!neither.success);
    assert.match(JSON.stringify(neither.error.issues), /exactly one of socket or address/);
  });

  test('state, weight, timeout and unknown keys are checked', () => {
    const base = { socket: '/run/haproxy.sock', backend: 'app', server: 's1' };
    assert.equal(action.schema.safeParse({ ...base, state: 'up' }).success, false);
    assert.equal(action.schema.safeParse({ ...base, state: 'ready', weight: 257 }).success, false);
    assert.equal(action.schema.safeParse({ ...base, state: 'ready', weight: 1.5 }).success, false);
    assert.equal(action.schema.safeParse({ ...base, state: 'ready', timeout: 'soon' }).success, false);
    assert.equal(action.schema.safeParse({ ...base, state: 'ready', extra: 1 }).success, false);
    assert.equal(action.schema.safeParse({ ...base, socket: 'relative.sock', state: 'ready' }).success, false);
    const parsed = action.schema.parse({ ...base, state: 'ready', weight: 256, timeout: '2s' }) as { timeout: number; weight: number };
    assert.equal(parsed.timeout, 2000);
    assert.equal(parsed.weight, 256);
    assert.equal((action.schema.parse({ ...base, state: 'ready' }) as { timeout: number }).timeout, 5000);
  });
});

describe('haproxy.server: a templated socket path', () => {
  const action = createHaproxyServerAction();
  const context = (lb: string) => ({
    labels: { lb },
    annotations: {},
    alert: { fingerprint: 'f', status: 'firing', startsAt: '2026-11-22T03:00:00Z' },
    run: { id: 'r', playbook: 'p', target: 't' },
  });
  const render = (socket: string, lb: string) => renderValue({ socket }, context(lb), action.escapesFor?.({ socket }));

  test('a label may name a socket in the directory the playbook writes', () => {
    assert.deepEqual(render('/run/haproxy/{{ labels.lb }}.sock', 'edge-1'), { socket: '/run/haproxy/edge-1.sock' });
  });

  test('a label can neither climb out of that directory nor give the whole path', () => {
    assert.throws(
      () => render('/run/haproxy/{{ labels.lb }}/admin.sock', '../../../tmp'),
      appError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, /"\.\." segment/),
    );
    assert.throws(() => render('{{ labels.lb }}', '/tmp/evil.sock'), appError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, /absolute/));
  });
});
