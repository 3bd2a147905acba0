import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { runDataSchema } from '../../src/core/run-data.js';
import { parseMetrics, series } from '../exporters/metrics-text.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { lines } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

const token = 'outage-bearer-token';
const outageMs = 30_000;

/**
 * Sums the samples of `name` whose labels include `labels`. Only the lines of that metric are parsed: the rest
 * of an exposition (Go runtime metrics, build info) is not the concern of this test.
 */
async function scrape(url: string, name: string, labels: Record<string, string>): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200, `${url}/metrics answered ${response.status}`);
  const text = (await response.text())
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .join('\n');
  return series(parseMetrics(text), name, labels).reduce((sum, sample) => sum + sample.value, 0);
}

/*
 * Why the timings below hold without luck (Alertmanager 0.25, notify/notify.go and cmd/alertmanager/main.go):
 * - a 5xx answer from a webhook is retryable; each flush of an alert group runs RetryStage, which retries with
 *   cenkalti/backoff's exponential backoff (first try at once, then about 0.5 s × 1.5ⁿ, ±50 % jitter, at most
 *   60 s) with MaxElapsedTime 0, that is until the flush's context ends;
 * - that context lasts max(group_interval, notify.MinTimeout = 10 s) (+ the cluster wait, 0 without peers);
 *   when it ends, the flush fails: alertmanager_notifications_failed_total{integration="webhook"} goes up by 1;
 * - nothing was logged to the notification log, so the next flush (group_interval, 1 s here, already elapsed)
 *   sends the alert again with a fresh backoff.
 * So a 30 s outage costs at least two failed flushes, and once Redis is back the next try comes either within
 * the current flush (its next backoff tick) or, at the latest, with the next flush: within about 11 s. The test
 * allows 25 s, and remediator's own reconnect (ioredis backoff capped at 2 s) adds at most 2 s.
 */
describe('Redis down for 30 s while a real Alertmanager delivers to remediator serve', () => {
  let redis: TestRedis;
  let remediator: RemediatorProcess;
  let am: TestAlertmanager;
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  const queueName = `outage-${randomUUID()}`;

  before(async () => {
    dir = await tempDir();
    redis = await startRedis(); // AOF in its own dir: pause/resume keep the port and the data
    playbooks = await writePlaybooks({
      'failover.yaml': `
name: failover
match: '{alertname="InstanceDown", role="primary"}'
target: '{{ labels.cluster }}'
steps:
  - name: act
    action: exec
    with:
      command: [sh, -c, 'printf "%s %s\\n" "$1" "$2" >> "$3"', sh, '{{ labels.cluster }}', '{{ labels.instance }}', '${join(dir.path, 'fired')}']
`,
    });
    remediator = await startRemediatorProcess({
      REDIS_URL: redis.url,
      QUEUE_NAME: queueName,
      REMEDIATIONS_DIR: playbooks.dir,
      WEBHOOK_TOKEN: token,
      REDIS_TIMEOUT_MS: '2000',
    });
    await waitFor('remediator ready', async () => (await fetch(`${remediator.url}/readyz`)).ok, 15_000, 100);
    am = await startAlertmanager({ webhookUrl: `${remediator.url}/webhooks/alertmanager`, token });
  });

  after(async () => {
    await am.stop();
    await remediator.stop();
    await playbooks.remove();
    await redis.stop();
    await dir.remove();
  });

  test('remediator answers 503, Alertmanager retries, and the run executes exactly once after Redis returns', async (t) => {
    const fired = join(dir.path, 'fired');
    const unavailable = () => scrape(remediator.url, 'remediator_webhook_requests_total', { outcome: 'unavailable' });
    const amFailedFlushes = () => scrape(am.url, 'alertmanager_notifications_failed_total', { integration: 'webhook' });
    const amFailedRequests = () => scrape(am.url, 'alertmanager_notification_requests_failed_total', { integration: 'webhook' });
    const amRequests = () => scrape(am.url, 'alertmanager_notification_requests_total', { integration: 'webhook' });
    const answered = () => scrape(remediator.url, 'remediator_webhook_requests_total', {});
    assert.equal(await unavailable(), 0);

    try {
      await redis.pause(); // SIGTERM: the process is gone; its AOF and port are kept for resume
      const stoppedAt = Date.now();
      await am.postAlerts([
        {
          labels: { alertname: 'InstanceDown', cluster: 'cache', instance: 'cache-a', role: 'primary' },
          annotations: { summary: 'cache-a is down' },
          startsAt: new Date().toISOString(),
        },
      ]);

      await waitFor('a 503 from remediator', async () => (await unavailable()) >= 1, 10_000, 100);
      const firstUnavailableMs = Date.now() - stoppedAt;
      // Keep Redis down for the whole outage (its length is the scenario), checking on the way that nothing ran without it.
      while (Date.now() - stoppedAt < outageMs) {
        assert.deepEqual(await lines(fired), [], 'no run while Redis is down');
        await delay(Math.min(1000, outageMs - (Date.now() - stoppedAt)));
      }
      const unavailableDuringOutage = await unavailable();
      const failedFlushesDuringOutage = await amFailedFlushes();
      const failedRequestsDuringOutage = await amFailedRequests();
      assert.ok(unavailableDuringOutage >= 2, `Alertmanager tried again while Redis was down (503s: ${unavailableDuringOutage})`);
      assert.ok(failedFlushesDuringOutage >= 1, `alertmanager_notifications_failed_total went up (${failedFlushesDuringOutage})`);
      assert.match(remediator.output(), /REDIS_UNAVAILABLE|Redis connection error/, 'remediator logged the outage');

      const resumedAt = Date.now();
      await redis.resume(); // same port, same data directory
      const backAt = Date.now(); // Redis answers PING
      await waitFor('the run after Redis came back', async () => (await lines(fired)).length > 0, 25_000, 50);
      const ranAfterMs = Date.now() - backAt;
      const queue = new Queue(queueName, { connection: redis.client() });
      try {
        // Alertmanager counts a request once it has the answer. When it has counted every answer remediator gave,
        // and a 2xx among them, its flush succeeded: it logs the alert as sent and sends it no more. Every run
        // queued until then has ended once the queue is idle.
        await waitFor(
          'Alertmanager to have every answer, a 2xx among them',
          async () => {
            const [made, failed, got, refused] = await Promise.all([amRequests(), amFailedRequests(), answered(), unavailable()]);
            if (made === got && failed === refused && got > refused) return true;
            throw new Error(`Alertmanager made ${made} requests, ${failed} failed; remediator answered ${got}, ${refused} with 503`);
          },
          25_000,
          100,
        );
        await waitForIdleQueue(queue);
        assert.deepEqual(await lines(fired), ['cache cache-a'], 'the remediation ran exactly once');

        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0 });
        const [job] = await queue.getJobs(['completed']);
        const data = runDataSchema.parse(job?.data);
        assert.equal(data.receiver, 'remediator', 'the run came through the Alertmanager receiver');
        assert.ok(Date.parse(data.receivedAt) >= resumedAt, 'the webhook was accepted only after Redis came back');
        const acceptedAfterMs = Date.parse(data.receivedAt) - backAt;
        const unavailableTotal = await unavailable();
        t.diagnostic(
          `first 503 ${firstUnavailableMs} ms after Redis stopped; 503s during the ${outageMs / 1000} s outage: ${unavailableDuringOutage} ` +
            `(total ${unavailableTotal}); Alertmanager failed flushes ${failedFlushesDuringOutage}, failed requests ${failedRequestsDuringOutage}; ` +
            `after Redis came back: webhook accepted at +${acceptedAfterMs} ms, side effect seen at +${ranAfterMs} ms`,
        );
        assert.equal(
          await amFailedRequests(),
          unavailableTotal,
          'every 503 was a failed notification request for Alertmanager, and no other request failed',
        );
        assert.ok((await scrape(remediator.url, 'remediator_webhook_requests_total', { outcome: 'accepted' })) >= 1);
      } finally {
        await queue.close();
      }
    } catch (error) {
      // Both sides' logs tell whether remediator refused, Alertmanager gave up or the worker did not resume.
      t.diagnostic(`remediator:\n${remediator.output().slice(-4000)}`);
      t.diagnostic(`alertmanager:\n${am.output().slice(-4000)}`);
      throw error;
    }
  });
});
