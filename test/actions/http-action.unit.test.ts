import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHttpAction } from '../../src/actions/http-action.js';

describe('http action: templated values at load time', () => {
  const action = createHttpAction();
  const problems = (raw: Record<string, unknown>) =>
    (action.checkRaw?.({ url: 'http://127.0.0.1/x', ...raw }) ?? []).map(({ path, message }) => `${path.join('.')}: ${message}`);
  const bodyEscape = (raw: Record<string, unknown>) => action.escapesFor?.(raw).body;

  test('a templated string body without a Content-Type is refused: the receiver could read it as a form', () => {
    const found = problems({ body: 'a=1&v={{ labels.x }}' });
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /^body: a templated string body needs a Content-Type header/);
  });

  test('a templated multipart body is refused: a value could forge a part boundary', () => {
    assert.match(
      problems({ headers: { 'Content-Type': 'multipart/form-data; boundary=x' }, body: '--x\r\n{{ labels.x }}' })[0] ?? '',
      /^body: .*part boundary/,
    );
  });

  test('a templated or repeated Content-Type is refused: a label must not choose how values are escaped', () => {
    assert.match(
      problems({ headers: { 'Content-Type': '{{ labels.type }}' }, body: 'v={{ labels.x }}' })[0] ?? '',
      /^headers\.Content-Type: Content-Type must not be templated/,
    );
    assert.match(
      problems({ headers: { 'Content-Type': 'text/plain', 'content-type': 'application/json' } })[0] ?? '',
      /^headers: Content-Type is given 2 times/,
    );
  });

  test('a templated secret reference is refused: a label must not choose which file or variable is sent', () => {
    assert.deepEqual(
      problems({ secretHeaders: { 'X-Key': { file: '/etc/remediator/{{ labels.team }}.key' }, 'X-Other': { env: '{{ labels.var }}' } } }),
      [
        'secretHeaders.X-Key.file: a secret reference must not be templated: a label must not choose which file or variable is read and sent',
        'secretHeaders.X-Other.env: a secret reference must not be templated: a label must not choose which file or variable is read and sent',
      ],
    );
  });

  test('bodies without templates, object bodies and templated string bodies with a Content-Type are accepted', () => {
    assert.deepEqual(problems({ body: 'a=1&b=2' }), []);
    assert.deepEqual(problems({ body: { v: '{{ labels.x }}' } }), []);
    assert.deepEqual(problems({ headers: { 'content-type': 'text/plain' }, body: 'note {{ labels.x }}' }), []);
    assert.deepEqual(problems({ form: { v: '{{ labels.x }}' }, secretHeaders: { 'X-Key': { env: 'API_KEY' } } }), []);
  });

  test('a string body is escaped for its Content-Type: form-encoded for a form, JSON-escaped for JSON and +json, as is otherwise', () => {
    assert.equal(bodyEscape({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'v={{ labels.x }}' }), 'form');
    assert.equal(bodyEscape({ headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: '{"v": "{{ labels.x }}"}' }), 'json');
    assert.equal(bodyEscape({ headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{"v": "{{ labels.x }}"}' }), 'json');
    assert.equal(bodyEscape({ headers: { 'Content-Type': 'text/plain' }, body: 'v={{ labels.x }}' }), 'raw');
    assert.equal(
      bodyEscape({ headers: { 'Content-Type': 'application/json' }, body: { v: '{{ labels.x }}' } }),
      'raw',
      'an object is serialized after rendering',
    );
  });
});
