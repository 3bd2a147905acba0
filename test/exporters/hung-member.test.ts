import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { probeBudgetMs } from '../../src/exporters/exporter-server.js';
import { createRedisCollector } from '../../src/exporters/redis-collector.js';
import { startExporterProcess, type ExporterProcess } from '../helpers/exporter-process.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { inProcessExporter, valueOf } from './metrics-text.js';

/**
 * A hung member (SIGSTOP: the kernel still accepts its TCP connections into the backlog, nothing ever answers)
 * must read `remediator_member_up 0` as a dead one does, in the same scrape, and in Prometheus too: a probe that
 * outlives Prometheus' scrape timeout loses the whole scrape, and an absent series never fires PrimaryUnreachable.
 */
describe('the exporter on a hung (SIGSTOP) Redis member', () => {
  const stopped = new Set<TestRedis>();
  const hang = (server: TestRedis) => {
    process.kill(server.process().pid, 'SIGSTOP');
    stopped.add(server);
  };
  const wake = (server: TestRedis) => {
    if (stopped.delete(server)) process.kill(server.process().pid, 'SIGCONT');
  };
  let servers: TestRedis[] = [];
  const inventoryYaml = (members: Record<string, TestRedis>) =>
    `clusters:\n  cache:\n    kind: redis\n    members:\n${Object.entries(members)
      .map(([name, server]) => `      - { name: ${name}, address: 127.0.0.1:${server.port} }`)
      .join('\n')}\n`;

  before(async () => {
    servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
  });
  after(async () => {
    for (const server of [...stopped]) wake(server);
    await Promise.all(servers.map((server) => server.stop()));
  });

  test('a stopped member and a killed one both read remediator_member_up 0 in the same scrape, the live one 1', async () => {
    const [live, hung, killed] = servers;
    assert.ok(live && hung && killed);
    const scrape = inProcessExporter(inventoryYaml({ live, hung, killed }), {
      collectors: { redis: createRedisCollector() },
      probeTimeoutMs: 500,
    });
    await waitFor('every member up', async () => {
      const samples = await scrape();
      return ['live', 'hung', 'killed'].every((name) => valueOf(samples, 'remediator_member_up', { instance: name }) === 1);
    });
    hang(hung);
    await killed.crash();
    try {
      const samples = await scrape();
      assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'hung' }), 0);
      assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'killed' }), 0);
      assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'live' }), 1);
      // Both keep the role they last reported live, as PrimaryUnreachable{role="primary"} needs.
      assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'hung', role: 'primary' }), 0);
    } finally {
      wake(hung);
      await killed.resume();
    }
    await waitFor(
      'the woken member to answer again',
      async () => valueOf(await scrape(), 'remediator_member_up', { instance: 'hung' }) === 1,
    );
  });

  describe('scraped by a real Prometheus with a 1 s scrape timeout, EXPORTER_PROBE_TIMEOUT_MS 5000', () => {
    let dir: { path: string; remove: () => Promise<void> };
    let exporter: ExporterProcess;
    let prometheus: TestPrometheus;
    const query = async (promql: string) => {
      const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data.result;
    };

    before(async () => {
      const [primary, replica] = servers;
      assert.ok(primary && replica);
      dir = await tempDir('remediator-hung-');
      const inventoryFile = join(dir.path, 'inventory.yaml');
      await writeFile(inventoryFile, inventoryYaml({ 'cache-p': primary, 'cache-r': replica }));
      // Longer than the scrape timeout on purpose: the deadline Prometheus announces must bound the probes.
      exporter = await startExporterProcess({ inventoryFile, env: { EXPORTER_PROBE_TIMEOUT_MS: '5000' } });
      prometheus = await startPrometheus({ exporters: [exporter.address] });
    });
    after(async () => {
      await prometheus.stop();
      await exporter.stop();
      await dir.remove();
    });

    test('a stopped primary reads 0 in Prometheus while the exporter target stays up, and 1 again once it resumes', async () => {
      const [primary] = servers;
      assert.ok(primary);
      await waitFor(
        'Prometheus to see cache-p up',
        async () => (await query('remediator_member_up{instance="cache-p"} == 1')).length === 1,
        {
          timeoutMs: 30_000,
          intervalMs: 200,
        },
      );
      hang(primary);
      try {
        await waitFor(
          'Prometheus to see cache-p down',
          async () => (await query('remediator_member_up{instance="cache-p"} == 0')).length === 1,
          {
            timeoutMs: 15_000,
            intervalMs: 200,
          },
        );
        // The scrape itself succeeded: the replica's series is current and the target is up.
        assert.equal((await query('up{job="remediator-exporter"} == 1')).length, 1);
        assert.equal((await query('remediator_member_up{instance="cache-r"} == 1')).length, 1);
      } finally {
        wake(primary);
      }
      await waitFor(
        'Prometheus to see cache-p up again',
        async () => (await query('remediator_member_up{instance="cache-p"} == 1')).length === 1,
        {
          timeoutMs: 15_000,
          intervalMs: 200,
        },
      );
    });
  });
});

describe('the probe budget a scrape announces', () => {
  test('is 80 % of the X-Prometheus-Scrape-Timeout-Seconds header, and none without a valid one', () => {
    assert.equal(probeBudgetMs('1'), 800);
    assert.equal(probeBudgetMs('10.5'), 8400);
    assert.equal(probeBudgetMs(['0.5', '9']), 400);
    for (const invalid of [undefined, '', 'soon', '-1', '0', 'Infinity']) assert.equal(probeBudgetMs(invalid), undefined, String(invalid));
  });
});
