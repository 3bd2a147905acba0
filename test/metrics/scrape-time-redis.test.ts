import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/util/free-port.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const playbooks = {
  'note.yaml': `
name: note
match: '{alertname="InstanceDown"}'
steps:
  - { name: note, action: log, with: { message: hi } }
`,
};

/**
 * GET /metrics, failing the test (rather than hanging it) when no answer comes: Prometheus gives up on a scrape
 * after its scrape_timeout (10 s by default) and records up=0.
 */
async function scrape(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(20_000) });
  return { status: response.status, text: await response.text() };
}

/** The value of a sample without labels, or of `name{labels}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics does not wait on Redis', () => {
  test('with Redis unreachable from start, a scrape answers with the rest of the metrics and remediator_redis_up 0', async (t) => {
    // A port that was free a moment ago: nothing listens there, so the connections never become ready.
    // No worker: BullMQ's worker.close() waits for a connection that never came (the process's hard exit covers that).
    const app = await startTestService({ redisUrl: `redis://127.0.0.1:${await freePort()}`, playbooks, settings: { worker: false } });
    t.after(() => app.close());
    const { status, text } = await scrape(app.url);
    assert.equal(status, 200);
    assert.equal(sample(text, 'remediator_redis_up'), 0);
    assert.equal(sample(text, 'remediator_playbooks_loaded'), 1);
    assert.equal(sample(text, 'remediator_runs_enqueued_total{playbook="note"}'), 0);
    assert.match(text, /^remediator_process_cpu_seconds_total /m);
  });

  describe('with a Redis that answers, then stops', () => {
    let redis: TestRedis;
    let app: TestService;

    before(async () => {
      redis = await startRedis();
      app = await startTestService({ redisUrl: redis.url, playbooks });
    });
    after(async () => {
      await app.close();
      await redis.stop();
    });

    test('while Redis answers, remediator_redis_up is 1 and the queue gauges are read', async () => {
      const { status, text } = await scrape(app.url);
      assert.equal(status, 200);
      assert.equal(sample(text, 'remediator_redis_up'), 1);
      assert.equal(sample(text, 'remediator_queue_jobs{state="waiting"}'), 0);
      assert.equal(sample(text, 'remediator_paused'), 0);
    });

    test('once Redis is gone, a scrape still answers and says remediator_redis_up 0, and 1 again when it is back', async () => {
      await redis.pause();
      try {
        const { status, text } = await scrape(app.url);
        assert.equal(status, 200);
        assert.equal(sample(text, 'remediator_redis_up'), 0);
        assert.equal(sample(text, 'remediator_playbooks_loaded'), 1);
      } finally {
        await redis.resume();
      }
      // Also lets the connections reconnect before the service closes (BullMQ's close waits for a reconnecting one).
      await waitFor('remediator_redis_up 1', async () => sample((await scrape(app.url)).text, 'remediator_redis_up') === 1, 15_000, 100);
    });
  });
});
