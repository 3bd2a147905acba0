import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runDataSchema } from '../../src/core/run-data.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

const token = 'am-bearer-token-42';


describe('a real Alertmanager delivering to remediator', () => {
  let redis: TestRedis;
  let app: TestService;
  let am: TestAlertmanager;
  let dir: { path: string; remove: () => Promise<void> };
  let firedFile: string;
  let resolvedFile: string;

  before(async () => {
    dir = await tempDir();
    firedFile = join(dir.path, 'fired');
    resolvedFile = join(dir.path, 'resolved');
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      settings: { webhookToken: token },
      playbooks: {
        'failover.yaml': `
name: failover
match: '{alertname="InstanceDown", role="primary"}'
on: firing
target: '{{ labels.cluster }}'
steps:
  - name: act
    action: exec
    with:
      command: [sh, -c, 'printf "%s %s\\n" "$1" "$2" >> "$3"', sh, '{{ labels.cluster }}', '{{ labels.instance }}', '${firedFile}']
`,
        'failback.yaml': `
name: failback
match: '{alertname="InstanceDown", role="primary"}'
on: resolved
steps:
  - name: note
    action: exec
    with:
      command: [sh, -c, 'printf "%s\\n" "$1" >> "$2"', sh, '{{ labels.instance }}', '${resolvedFile}']
`,
      },
    });
    am = await startAlertmanager({ webhookUrl: `${app.url}/webhooks/alertmanager`, token });
  });

  after(async () => {
    await am.stop();
    await app.close();
    await redis.stop();
    await dir.remove();
  });

  test('a firing alert runs the matching exec step exactly once, and its resolution runs the on: resolved playbook once', async () => {
    const startsAt = new Date().toISOString();
    const alert = {
      labels: { alertname: 'InstanceDown', cluster: 'cache', instance: 'cache-a', role: 'primary' },
      annotations: { summary: 'cache-a is down' },
      startsAt,
      generatorURL: 'http://prometheus.test/graph',
    };
    await am.postAlerts([alert]);
    await waitFor('the firing run', async () => (await lines(firedFile)).length > 0, 20_000);
    // Prometheus re-sends a firing alert on every evaluation; Alertmanager and remediator must not act twice.
    for (let i = 0; i < 3; i++) {
      await am.postAlerts([alert]);
      await delay(700);
    }
    await delay(2500); // more than two group_intervals: any duplicate notification would have arrived
    assert.deepEqual(await lines(firedFile), ['cache cache-a']);

    const firing = await app.service.queue.getJobs(['completed']);
    assert.equal(firing.length, 1);
    const data = runDataSchema.parse(firing[0]?.data);
    assert.equal(data.playbook, 'failover');
    assert.equal(data.target, 'cache');
    assert.equal(data.receiver, 'remediator', 'the run came through the Alertmanager receiver');
    assert.equal(data.externalURL?.startsWith('http://'), true);
    assert.match(data.groupKey ?? '', /alertname="InstanceDown"/);
    assert.equal(Date.parse(data.alert.startsAt), Date.parse(startsAt));
    assert.match(data.alert.fingerprint, /^[0-9a-f]{16}$/, "Alertmanager's own fingerprint is used");

    await am.postAlerts([{ ...alert, endsAt: new Date().toISOString() }]);
    await waitFor('the resolved run', async () => (await lines(resolvedFile)).length > 0, 20_000);
    await delay(2500);
    assert.deepEqual(await lines(resolvedFile), ['cache-a']);
    assert.deepEqual(await lines(firedFile), ['cache cache-a'], 'the resolved notification did not run the firing playbook');
    const completed = await app.service.queue.getJobs(['completed']);
    assert.deepEqual(completed.map((job) => runDataSchema.parse(job.data).playbook).sort(), ['failback', 'failover']);
  });
});
