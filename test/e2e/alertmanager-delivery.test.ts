import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runDataSchema } from '../../src/core/run-data.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
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
  let markerFile: string;

  before(async () => {
    dir = await tempDir();
    firedFile = join(dir.path, 'fired');
    resolvedFile = join(dir.path, 'resolved');
    markerFile = join(dir.path, 'markers');
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
        'marker.yaml': `
name: marker
match: '{alertname="InstanceDown", role="marker"}'
steps:
  - name: note
    action: exec
    with:
      command: [sh, -c, 'printf "%s\\n" "$1" >> "$2"', sh, '{{ labels.instance }}', '${markerFile}']
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

  /**
   * Posts a marker alert into the group under test and waits for its run. Alertmanager sends a group's
   * notifications one after another, so once the one with the marker (and the group's other alerts again) is
   * answered, every notification before it is answered and its runs queued; they have all ended once the queue is
   * idle. What a fixed pause "long enough for a duplicate to arrive" stood for.
   */
  async function markerRan(instance: string): Promise<void> {
    await am.postAlerts([{ labels: { alertname: 'InstanceDown', cluster: 'cache', instance, role: 'marker' } }]);
    await waitFor(`the run of marker ${instance}`, async () => (await lines(markerFile)).includes(instance), 20_000);
    await waitForIdleQueue(app.service.queue);
  }
  const playbooks = async () =>
    (await app.service.queue.getJobs(['completed'])).map((job) => runDataSchema.parse(job.data).playbook).sort();

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
      await delay(700); // Prometheus's evaluation interval, imitated: the re-sends are spread over group_intervals
    }
    await markerRan('marker-1');
    assert.deepEqual(await lines(firedFile), ['cache cache-a']);

    assert.deepEqual(await playbooks(), ['failover', 'marker']);
    const firing = (await app.service.queue.getJobs(['completed'])).filter((job) => runDataSchema.parse(job.data).playbook === 'failover');
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
    await markerRan('marker-2');
    assert.deepEqual(await lines(resolvedFile), ['cache-a']);
    assert.deepEqual(await lines(firedFile), ['cache cache-a'], 'the resolved notification did not run the firing playbook');
    assert.deepEqual(await playbooks(), ['failback', 'failover', 'marker', 'marker']);
  });
});
