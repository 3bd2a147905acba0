import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseSilenceMatchers,
  renderSilenceMatchers,
  toAlertmanagerMatcher,
  type SilenceMatcherTemplate,
} from '../../src/core/silence-matchers.js';
import type { TemplateContext } from '../../src/core/template/template.js';
import { isAppError } from '../../src/core/errors/index.js';

const context = (labels: Record<string, string>, cut?: string[]): TemplateContext => ({
  labels,
  annotations: {},
  alert: { fingerprint: 'f00d', status: 'firing', startsAt: '2026-01-01T00:00:00.000Z' },
  run: { id: 'run-1', playbook: 'failover', target: 'cache-a' },
  ...(cut === undefined ? {} : { cut: new Set(cut) }),
});

function parsed(text: string): SilenceMatcherTemplate[] {
  const result = parseSilenceMatchers(text);
  if (!result.success) assert.fail(`expected matchers, got: ${result.errors.join('; ')}`);
  return result.matchers;
}

function errorsOf(text: string): string[] {
  const result = parseSilenceMatchers(text);
  if (result.success) assert.fail(`expected errors, got ${JSON.stringify(result.matchers)}`);
  return result.errors;
}

describe('silence matchers', () => {
  test('each PromQL operator becomes the isRegex and isEqual pair Alertmanager expects', () => {
    assert.deepEqual(toAlertmanagerMatcher({ name: 'a', op: '=', value: 'x' }), { name: 'a', value: 'x', isRegex: false, isEqual: true });
    assert.deepEqual(toAlertmanagerMatcher({ name: 'a', op: '!=', value: 'x' }), { name: 'a', value: 'x', isRegex: false, isEqual: false });
    assert.deepEqual(toAlertmanagerMatcher({ name: 'a', op: '=~', value: 'x' }), { name: 'a', value: 'x', isRegex: true, isEqual: true });
    assert.deepEqual(toAlertmanagerMatcher({ name: 'a', op: '!~', value: 'x' }), { name: 'a', value: 'x', isRegex: true, isEqual: false });
  });

  test('the playbook example renders to Alertmanager matchers with the alert label as data', () => {
    const matchers = parsed('{alertname=~"InstanceDown|PrimaryUnreachable", cluster="{{ labels.cluster }}", severity!~"info|none"}');
    assert.deepEqual(renderSilenceMatchers(matchers, context({ cluster: 'cache "a", b' })), [
      { name: 'alertname', value: 'InstanceDown|PrimaryUnreachable', isRegex: true, isEqual: true },
      { name: 'cluster', value: 'cache "a", b', isRegex: false, isEqual: true },
      { name: 'severity', value: 'info|none', isRegex: true, isEqual: false },
    ]);
  });

  test('a metric name stands for alertname, as in match:', () => {
    assert.deepEqual(renderSilenceMatchers(parsed('InstanceDown{cluster!="test"}'), context({})), [
      { name: 'alertname', value: 'InstanceDown', isRegex: false, isEqual: true },
      { name: 'cluster', value: 'test', isRegex: false, isEqual: false },
    ]);
  });

  test('a label value inserted into a regex matcher is quoted, so it cannot widen the silence', () => {
    const [matcher] = renderSilenceMatchers(
      parsed('{alertname="Down", instance=~"{{ labels.host }}:.*"}'),
      context({ host: '.*|x' }),
    ).slice(1);
    assert.deepEqual(matcher, { name: 'instance', value: '\\.\\*\\|x:.*', isRegex: true, isEqual: true });
    assert.ok(new RegExp(`^(?:${matcher.value})$`).test('.*|x:9100'));
    assert.ok(!new RegExp(`^(?:${matcher.value})$`).test('other:9100'));
  });

  test('escapes in a quoted value are decoded once, and a reference with a default renders its default', () => {
    assert.deepEqual(renderSilenceMatchers(parsed('{alertname="a\\"b", cluster="{{ labels.cluster | default("main") }}"}'), context({})), [
      { name: 'alertname', value: 'a"b', isRegex: false, isEqual: true },
      { name: 'cluster', value: 'main', isRegex: false, isEqual: true },
    ]);
  });

  test('a reference the alert has no value for, or one cut on intake, fails the rendering', () => {
    const matchers = parsed('{alertname="Down", cluster="{{ labels.cluster }}"}');
    assert.throws(
      () => renderSilenceMatchers(matchers, context({})),
      (error) => isAppError(error, 'REM_TEMPLATE_UNKNOWN_REFERENCE'),
    );
    assert.throws(
      () => renderSilenceMatchers(matchers, context({ cluster: 'x' }, ['labels.cluster'])),
      (error) => isAppError(error, 'REM_TEMPLATE_UNKNOWN_REFERENCE'),
    );
  });

  test('a reference outside a quoted value is refused: a label cannot add a matcher', () => {
    assert.ok(errorsOf('{alertname="Down", cluster={{ labels.cluster }}}').length > 0);
    assert.ok(errorsOf('{alertname="Down", {{ labels.name }}="x"}').length > 0);
  });

  test('matchers that all match the empty string are refused, as Alertmanager refuses them', () => {
    assert.match(errorsOf('{alertname=~".*"}').join(), /must not match the empty string/);
    assert.match(errorsOf('{cluster!="a"}').join(), /must not match the empty string/);
    assert.deepEqual(parsed('{cluster="{{ labels.cluster }}"}').length, 1);
  });

  test('malformed matchers and unknown references are reported', () => {
    assert.ok(errorsOf('{alertname="Down"').length > 0);
    assert.ok(errorsOf('{alertname="{{ labels.x | nope }}"}').length > 0);
    assert.ok(errorsOf('sum(up)').length > 0);
  });
});
