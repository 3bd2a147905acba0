import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePromql } from '../../src/core/promql/parse-promql.js';
import { grafanaVariablePattern, playbookTemplateAt, substituteVariables } from '../../tools/lint/variable-placeholders.js';

describe('substituteVariables', () => {
  const grafana: [string, string][] = [
    ['rate(x_total[$__rate_interval])', 'rate(x_total[5m])'],
    ['increase(x_total[$__range]) offset $__interval', 'increase(x_total[5m]) offset 5m'],
    ['rate(x_total{cluster=~"$cluster"}[${__interval}])', 'rate(x_total{cluster=~"placeholder"}[5m])'],
    [
      'x{instance=~"[[instance]]", role=~"${role:regex}", a="${a:pipe}|b"}',
      'x{instance=~"placeholder", role=~"placeholder", a="placeholder|b"}',
    ],
    ['sum by ($label) (x)', 'sum by (placeholder) (x)'],
    ['topk($k, x) > $threshold', 'topk(1, x) > 1'],
    ['${prefix}_up == 0', 'placeholder_up == 0'],
    ['x[[[range]]]', 'x[5m]'],
    ['x / $__interval_ms', 'x / 1'],
    ['x{a="$"} # $not_substituted in a comment', 'x{a="$"} # $not_substituted in a comment'],
  ];
  for (const [input, expected] of grafana) {
    test(`Grafana: ${input}`, () => {
      const { text } = substituteVariables(input, grafanaVariablePattern);
      assert.equal(text, expected);
      assert.deepEqual(parsePromql(text).errors, []);
    });
  }

  test('playbook templates: a label value in a string, a bare token elsewhere', () => {
    const { text } = substituteVariables(
      'max(x{cluster="{{ labels.cluster }}"}[{{ labels.window }}]) > {{ labels.limit }}',
      playbookTemplateAt,
    );
    assert.equal(text, 'max(x{cluster="placeholder"}[5m]) > 1');
  });

  test('playbook templates with filters: a } or a quote inside a default stays inside the reference', () => {
    const { text } = substituteVariables(
      'up{a="{{ labels.x | default("}\\"") }}"} > {{ labels.n | default(\'1\') }} and on() x{b="{{ labels.instance | host }}"}',
      playbookTemplateAt,
    );
    assert.equal(text, 'up{a="placeholder"} > 1 and on() x{b="placeholder"}');
    assert.deepEqual(parsePromql(text).errors, []);
  });

  test('reports where each stand-in is, in the substituted text', () => {
    const { text, substitutions } = substituteVariables('${prefix}_up{a="$b"}', grafanaVariablePattern);
    assert.deepEqual(
      substitutions.map(({ from, to }) => text.slice(from, to)),
      ['placeholder', 'placeholder'],
    );
    assert.deepEqual(substitutions[0], { from: 0, to: 'placeholder'.length });
  });
});
