import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { RunView } from '../../src/runs/run-view.js';
import { fenceThenPromote, type FenceThenPromote } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const admin = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

describe('Bull Board at /queues', () => {
  let redis: TestRedis;
  let app: TestService;
  let dir: { path: string; remove: () => Promise<void> };
  let playbook: FenceThenPromote;

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    playbook = fenceThenPromote(dir.path);
    app = await startTestService({
      redisUrl: redis.url,
      settings: { adminPassword: 'pw' },
      playbooks: { 'fence-then-promote.yaml': playbook.yaml },
    });
  });

  after(async () => {
    await app.close();
    await dir.remove();
    await redis.stop();
  });

  test('without credentials /queues answers 401 with a Basic challenge, and so does its API', async () => {
    for (const path of ['/queues', '/queues/api/queues']) {
      const response = await fetch(`${app.url}${path}`);
      assert.equal(response.status, 401, path);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /, path);
    }
    const wrong = await fetch(`${app.url}/queues`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    assert.equal(wrong.status, 401);
  });

  test('with admin credentials /queues serves the Bull Board HTML page', async () => {
    const response = await fetch(`${app.url}/queues`, { headers: admin });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const html = await response.text();
    assert.match(html, /<html/i);
    assert.match(html, /remediator/, 'the board title is configured');
  });

  test("the board's API lists the remediation queue under the service's queue name", async () => {
    const response = await fetch(`${app.url}/queues/api/queues`, { headers: admin });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { queues: { name: string; allowRetries: boolean }[] };
    assert.deepEqual(
      body.queues.map((queue) => queue.name),
      [app.queueName],
    );
    assert.equal(body.queues[0]?.allowRetries, true);
  });

  test('a run that failed is retried through the Bull Board API and resumes at the failed step without repeating the first', async () => {
    const response = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'PrimaryDown', instance: 'pg-1' } }]));
    assert.equal(response.status, 202);
    const jobId = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    assert.ok(jobId);

    await waitFor(`run ${jobId} to fail`, async () => (await app.service.queue.getJobState(jobId)) === 'failed', 20_000);
    assert.deepEqual(await lines(playbook.fenceLog), ['fenced']);
    assert.deepEqual(await lines(playbook.promoteLog), ['try']);
    const failed = (await app.service.queue.getJob(jobId))?.data.steps.map(({ name, status }) => ({ name, status }));
    assert.deepEqual(failed, [
      { name: 'fence', status: 'succeeded' },
      { name: 'promote', status: 'failed' },
    ]);

    await writeFile(playbook.replicaReady, '');
    const retry = await fetch(`${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}/${encodeURIComponent(jobId)}/retry`, {
      method: 'PUT',
      headers: admin,
    });
    assert.equal(retry.status, 204, await retry.text());
    // Recorded once the answer was sent: a moment after the client has it.
    const audit = await waitFor('the retry in the audit', async () => {
      const page = (await (await fetch(`${app.url}/api/audit`, { headers: admin })).json()) as {
        entries: { action: string; target: string; outcome: string; user: string }[];
      };
      return page.entries.length > 0 ? page : undefined;
    });
    assert.deepEqual(
      audit.entries.map(({ action, target, outcome, user }) => [action, target, outcome, user]),
      [['queue-ui', `${app.queueName}/${jobId}/retry`, '204', 'admin']],
      'the retry is in the audit, with the user',
    );

    await waitFor(
      `run ${jobId} to complete after the retry`,
      async () => (await app.service.queue.getJobState(jobId)) === 'completed',
      20_000,
    );
    assert.deepEqual(await lines(playbook.fenceLog), ['fenced'], 'the fence step ran exactly once in total');
    assert.deepEqual(await lines(playbook.promoteLog), ['try', 'try'], 'the promote step ran again');

    const view = await fetch(`${app.url}/api/runs/${encodeURIComponent(jobId)}`, { headers: admin });
    assert.equal(view.status, 200);
    const run = (await view.json()) as RunView;
    assert.equal(run.state, 'completed');
    assert.deepEqual(
      run.steps.map(({ name, status, attempts }) => ({ name, status, attempts })),
      [
        { name: 'fence', status: 'succeeded', attempts: 1 },
        { name: 'promote', status: 'succeeded', attempts: 2 },
      ],
    );
  });

  test('retrying a job that does not exist through the board answers 404', async () => {
    const response = await fetch(`${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}/no-such-job/retry`, {
      method: 'PUT',
      headers: admin,
    });
    assert.equal(response.status, 404);
  });

  test(
    "while Redis is down the board's API answers 503 with Retry-After and the JSON error of the rest of the API, and recovers after",
    { timeout: 40_000 },
    async () => {
      await redis.pause();
      try {
        const reference = await fetch(`${app.url}/api/runs`, { headers: admin });
        assert.equal(reference.status, 503);
        const expected = (await reference.json()) as { error: { code: string; message: string } };
        const board = `${app.url}/queues/api/queues`;
        const requests: [string, RequestInit][] = [
          [board, { headers: admin }],
          [`${board}/${encodeURIComponent(app.queueName)}/some-job/retry`, { method: 'PUT', headers: admin }],
          [`${board}/${encodeURIComponent(app.queueName)}/pause`, { method: 'PUT', headers: admin }],
        ];
        for (const [url, init] of requests) {
          const answer = await fetch(url, init);
          const text = await answer.text();
          assert.equal(answer.status, 503, text);
          assert.equal(answer.headers.get('retry-after'), '5');
          assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
          const body = JSON.parse(text) as { error: { code: string; message: string } };
          assert.deepEqual(Object.keys(body), ['error']);
          assert.equal(body.error.code, expected.error.code);
          assert.match(body.error.message, /^Redis is unavailable: /);
          assert.doesNotMatch(text, /stack|\.js:\d+|ERRORS\./, 'no stack, no Bull Board error key');
        }
        const page = await fetch(`${app.url}/queues`, { headers: admin });
        await page.arrayBuffer();
        assert.equal(page.status, 200, 'the page itself needs no Redis');
      } finally {
        await redis.resume();
        // Also when an assertion failed: the service is closed after this file, which must not be mid-reconnect.
        await waitFor(
          'the board to answer again',
          async () => {
            const answer = await fetch(`${app.url}/queues/api/queues`, { headers: admin });
            await answer.arrayBuffer();
            return answer.status === 200;
          },
          15_000,
          200,
        );
      }
    },
  );
});
