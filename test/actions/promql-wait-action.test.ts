import assert from 'node:assert/strict';
import { appError, runAction } from '../helpers/action-run.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ActionDefinition } from '../../src/core/action.js';
import { createPromqlWaitAction } from '../../src/actions/promql-wait-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { renderValue } from '../../src/core/template/template.js';
import { createPrometheusClient } from '../../src/promql/prometheus-client.js';
import { freePort } from '../../src/util/free-port.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';

interface WaitOutput {
  polls: number;
  result: unknown;
}

const run = (action: ActionDefinition, withBlock: Record<string, unknown>, signal?: AbortSignal) =>
  runAction<WaitOutput>(action, withBlock, signal);

/** The poll count from a "condition not met … after N polls" message. */
function pollsIn(error: unknown): number {
  const match = /after (\d+) polls/.exec((error as Error).message);
  assert.ok(match, `the message counts the polls: ${(error as Error).message}`);
  return Number(match[1]);
}

describe('promql.wait action', () => {
  let prometheus: TestPrometheus;
  let action: ActionDefinition;

  before(async () => {
    prometheus = await startPrometheus();
    action = createPromqlWaitAction({ prometheus: createPrometheusClient({ baseUrl: prometheus.url }) });
  });
  after(async () => {
    await prometheus.stop();
  });

  test('a query that already returns a series succeeds on the first poll with the result', async () => {
    const output = await run(action, { query: 'up{job="prometheus"} == 1', interval: '200ms', within: '3s' });
    assert.equal(output.polls, 1);
    const result = output.result as { metric: Record<string, string>; value: [number, string] }[];
    assert.equal(result.length, 1);
    assert.equal(result[0]?.metric.job, 'prometheus');
    assert.equal(result[0].value[1], '1');
  });

  test('expect false succeeds when the query returns nothing', async () => {
    const output = await run(action, { query: 'absent_metric_xyz', expect: 'false', interval: '200ms', within: '3s' });
    assert.equal(output.polls, 1);
    assert.deepEqual(output.result, []);
  });

  test('a query that never returns a result fails after within with a transient error saying the condition was not met', async () => {
    const started = Date.now();
    let caught: unknown;
    await assert.rejects(run(action, { query: 'absent_metric_xyz', interval: '200ms', within: '2s' }), (error: unknown) => {
      caught = error;
      return appError(errorCodes.STEP_FAILED, /condition not met within 2000 ms/, /no result/)(error);
    });
    assert.ok(pollsIn(caught) > 1, 'it polled more than once before giving up');
    assert.ok(Date.now() - started >= 1500, 'it waited for (most of) within before giving up');
  });

  test('expect false fails transient while the query keeps returning a result', async () => {
    await assert.rejects(
      run(action, { query: 'up{job="prometheus"}', expect: 'false', interval: '200ms', within: '1s' }),
      appError(errorCodes.STEP_FAILED, /condition not met/, /still returned a result/),
    );
  });

  test('a query that only becomes true later succeeds after several polls', async () => {
    const threshold = Math.ceil(Date.now() / 1000) + 2;
    const output = await run(action, { query: `vector(time()) > ${threshold}`, interval: '200ms', within: '6s' });
    assert.ok(output.polls > 1, `polled ${output.polls} times`);
    assert.ok(Date.now() / 1000 > threshold, 'it succeeded only once the condition held');
  });

  test('a query that parses but Prometheus rejects is a permanent error on the first poll', async () => {
    assert.equal(action.schema.safeParse({ query: 'rate(up)' }).success, true, 'lezer-promql accepts it');
    const started = Date.now();
    await assert.rejects(
      run(action, { query: 'rate(up)', interval: '200ms', within: '3s' }),
      appError(errorCodes.STEP_PERMANENT, /rejected the query/, /range vector/),
    );
    assert.ok(Date.now() - started < 2500, 'it did not poll on until within');
  });

  test('an unreachable Prometheus keeps being polled, then the step fails transient', async () => {
    const closedPort = await freePort();
    const unreachable = createPromqlWaitAction({ prometheus: createPrometheusClient({ baseUrl: `http://127.0.0.1:${closedPort}` }) });
    let caught: unknown;
    await assert.rejects(run(unreachable, { query: 'up', interval: '200ms', within: '1s' }), (error: unknown) => {
      caught = error;
      return appError(errorCodes.STEP_FAILED, /condition not met/, /unreachable/)(error);
    });
    assert.ok(pollsIn(caught) > 1, 'it polled more than once');
  });

  test('label values with quotes and backslashes reach Prometheus as data in double- and single-quoted literals', async () => {
    const value = `o'brien "x" \\ } or vector(1)`;
    const context = {
      labels: { v: value },
      annotations: {},
      alert: { fingerprint: 'f', status: 'firing', startsAt: '' },
      run: { id: 'r', playbook: 'p', target: 't' },
    };
    for (const query of [
      'label_replace(vector(1), "v", "{{ labels.v }}", "", "")',
      "label_replace(vector(1), 'v', '{{ labels.v }}', '', '')",
    ]) {
      const rendered = renderValue({ query }, context, action.escapesFor?.({ query })) as Record<string, unknown>;
      const output = await run(action, rendered);
      const series = output.result as { metric: Record<string, string> }[];
      assert.equal(series.length, 1, `one series for ${String(rendered.query)}`);
      assert.equal(series[0]?.metric.v, value);
    }
  });

  describe('against a Prometheus that is not ready', () => {
    let server: Server;
    let notReadyUrl: string;
    let requests = 0;

    before(async () => {
      // Answers like Prometheus' readiness gate (web.go testReady) while it is starting up or stopping:
      // 503 with the plain-text body "Service Unavailable", no JSON.
      server = createServer((_req, res) => {
        requests++;
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'x-prometheus-stopping': 'false' }).end('Service Unavailable');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      notReadyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    });

    test('a JSON error Prometheus marks as a timeout or unavailable is polled on, not a permanent failure', async () => {
      const overloaded = createServer((_req, res) => {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' }));
      });
      await new Promise<void>((resolve) => overloaded.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(overloaded.address() as AddressInfo).port}`;
        const wait = createPromqlWaitAction({ prometheus: createPrometheusClient({ baseUrl: url }) });
        await assert.rejects(
          run(wait, { query: 'up', interval: '200ms', within: '1s' }),
          appError(errorCodes.STEP_FAILED, /condition not met/, /timeout/),
        );
      } finally {
        overloaded.closeAllConnections();
        await new Promise<void>((resolve) => {
          overloaded.close(() => {
            resolve();
          });
        });
      }
    });

    test('a 503 "Service Unavailable" answer is polled on like an unreachable Prometheus, not a permanent failure', async () => {
      const notReady = createPromqlWaitAction({ prometheus: createPrometheusClient({ baseUrl: notReadyUrl }) });
      await assert.rejects(
        run(notReady, { query: 'up', interval: '200ms', within: '1s' }),
        appError(errorCodes.STEP_FAILED, /condition not met/, /503/),
      );
      assert.ok(requests > 1, `Prometheus was asked ${requests} times`);
    });
  });

  test('aborting the signal ends the wait promptly with the abort reason', async () => {
    const controller = new AbortController();
    const reason = new Error('step timed out');
    const started = Date.now();
    const running = run(action, { query: 'absent_metric_xyz', interval: '200ms', within: '30s' }, controller.signal);
    setTimeout(() => {
      controller.abort(reason);
    }, 500);
    await assert.rejects(running, (error: unknown) => error === reason);
    assert.ok(Date.now() - started < 10_000, 'it did not wait out within');
  });

  test('the schema rejects a query with a PromQL syntax error', () => {
    for (const query of ['sum(up', 'up{job="prometheus"', '']) {
      const result = action.schema.safeParse({ query });
      assert.equal(result.success, false, JSON.stringify(query));
      assert.match(JSON.stringify(result.error.issues), /PromQL/);
    }
  });

  test('without a Prometheus client the step fails permanently and says PROMETHEUS_URL must be configured', async () => {
    const unconfigured = createPromqlWaitAction({ prometheus: undefined });
    await assert.rejects(run(unconfigured, { query: 'up' }), appError(errorCodes.STEP_PERMANENT, /PROMETHEUS_URL/));
  });
});
