import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { annotationQueries } from '../../tools/lint/collect-rules.js';
import { variableQueryPromql } from '../../tools/lint/collect-dashboards.js';
import { analysePromql } from '../../tools/lint/promql-facts.js';

const names = (text: string) => analysePromql(text).metrics.map((metric) => ('name' in metric ? metric.name : `~${metric.pattern}`));

describe('analysePromql', () => {
  test('reads metric names from the syntax tree: identifiers, __name__ matchers and quoted names', () => {
    assert.deepEqual(names('sum by (le) (rate(a_bucket{job="x"}[5m])) / on() group_left b'), ['a_bucket', 'b']);
    assert.deepEqual(names('{__name__="c", job="x"} or {__name__=~"d|e"}'), ['c', '~d|e']);
    assert.deepEqual(names('{"my.metric", job="x"}'), ['my.metric']);
    // Label values, label names and function names are not metrics.
    assert.deepEqual(names('label_replace(up{job="rate"}, "dst", "$1", "src", "(.*)")'), ['up']);
  });

  test('a syntax error is reported with its offset, and no metric is read from a broken expression', () => {
    const facts = analysePromql('rate(x[5m]');
    assert.equal(facts.metrics.length, 0);
    assert.ok(facts.errors.length > 0);
    assert.match(facts.errors[0]?.message ?? '', /offset \d+|unexpected end/);
  });

  const pitfalls: [string, boolean][] = [
    ['count(up == 1) < 1', true],
    ['count by (cluster) (remediator_member_up{role="primary"} == 1) < 1', true],
    ['count(up == 1) == 0', true],
    ['count(up > 0) <= 2', true],
    ['1 > count(up == 1)', true],
    ['(count((up == 1)) < 1)', true],
    ['sum(up == 1) < 1', true],
    ['count(up == 1) < 1 and on() vector(1)', true],
    // Not the pitfall:
    ['count(up == bool 1) < 1', false], // every series counts, 0 or 1
    ['count(up) < 1', false], // no filter
    ['count(up == 1) > 0', false], // empty means "not above 0": correct
    ['count(up == 1) < 0', false], // 0 does not satisfy it either
    ['(count(up == 1) or vector(0)) < 1', false],
    ['count(up == 1) < 1 or absent(up == 1)', false],
    ['max by (cluster) (up) == 0', false],
    ['count_values("v", up == 1) < 1', false],
  ];
  for (const [expression, expected] of pitfalls) {
    test(`all-down pitfall ${expected ? 'found' : 'not reported'}: ${expression}`, () => {
      const found = analysePromql(expression).pitfalls;
      assert.equal(found.length, expected ? 1 : 0, JSON.stringify(found));
      if (expected) assert.match(found[0]?.message ?? '', /all-down pitfall: .*empty vector is empty, not 0/);
    });
  }

  test('the pitfall message suggests the bool form with the same grouping', () => {
    const [pitfall] = analysePromql('count by (cluster) (remediator_member_up == 1) < 1').pitfalls;
    assert.match(pitfall?.message ?? '', /sum by \(cluster\) \(remediator_member_up == bool 1\) < 1/);
  });
});

describe('PromQL inside other languages', () => {
  test('annotation templates: the query of `query`, with printf verbs replaced', () => {
    assert.deepEqual(
      annotationQueries(
        'All {{ with printf "count(remediator_member_up{cluster=%q, n=\\"%d\\"})" $labels.cluster 3 | query }}{{ . | first | value }}{{ end }} and {{ query "up" }}; {{ $labels.cluster }}',
      ),
      ['count(remediator_member_up{cluster="placeholder", n="1"})', 'up'],
    );
    assert.deepEqual(annotationQueries('{{ if eq $labels.role "primary" }}failover{{ end }}'), []);
  });

  test('Grafana variable queries: label_values and query_result hold PromQL, the others none', () => {
    assert.equal(
      variableQueryPromql('label_values(remediator_member_up{cluster=~"$cluster"}, instance)'),
      'remediator_member_up{cluster=~"$cluster"}',
    );
    assert.equal(variableQueryPromql('query_result(topk(5, sum by (cluster) (x)))'), 'topk(5, sum by (cluster) (x))');
    assert.equal(variableQueryPromql('label_values(cluster)'), undefined);
    assert.equal(variableQueryPromql('metrics(remediator_.*)'), undefined);
  });
});
