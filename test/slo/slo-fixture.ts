import assert from 'node:assert/strict';
import { parseSlosSource } from '../../tools/slo/load-slos.js';
import type { SloDefinitions } from '../../tools/slo/slo.js';
import { formatProblem } from '../../src/sources/index.js';

/** The SLO definitions parsed from `text`, written like rules/slos.yaml; fails the test on a problem. */
export function definitions(text: string): SloDefinitions {
  const result = parseSlosSource('slos.yaml', text);
  if (!result.success) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.definitions;
}

/** Two SLOs of one service, an error-ratio and a good-ratio one, with an indicator recording rule. */
export const spec = `
indicators:
  - record: job:up:min
    description: "1 while every target of the job is up."
    expr: min by (job) (up)
services:
  - name: checkout
    labels: { team: payments }
    slos:
      - name: requests
        objective: 99.9
        window: 28d
        description: 'Not 5xx. Dashboards show {{ $value }} literally.'
        sli:
          errorQuery: sum(rate(http_requests_total{job="checkout", code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
      - name: uptime
        objective: 99.5
        sli:
          goodQuery: |-
            sum(sum_over_time(job:up:min{job="checkout"}[{{.window}}]))
          totalQuery: sum(count_over_time(job:up:min{job="checkout"}[{{.window}}]))
`;
