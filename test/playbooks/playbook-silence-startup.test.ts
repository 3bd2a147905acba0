import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runRemediator } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';

describe('a playbook with silence: and the Alertmanagers remediator knows', () => {
  let files: { dir: string; remove: () => Promise<void> };
  before(async () => {
    files = await writePlaybooks({
      'failover.yaml': `name: failover
match: '{alertname="PrimaryDown"}'
target: '{{ labels.cluster }}'
silence:
  matchers: '{alertname="InstanceDown", cluster="{{ labels.cluster }}"}'
steps:
  - name: note
    action: log
    with: { message: hi }
`,
    });
  });
  after(async () => {
    await files.remove();
  });

  test('serve refuses to start without ALERTMANAGER_URL, naming the file, line and key', async () => {
    const run = runRemediator(['serve'], { REMEDIATIONS_DIR: files.dir, REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal((await run.exited).code, 1);
    assert.match(run.output(), /1 problem in playbooks; refusing to start/);
    assert.match(run.output(), /failover\.yaml:5: silence: needs ALERTMANAGER_URL/);
  });

  test('validate reports it the same way, and accepts the playbook once ALERTMANAGER_URL is set', async () => {
    const without = runRemediator(['validate', files.dir], {});
    assert.equal((await without.exited).code, 1);
    assert.match(without.output(), /failover\.yaml:5: silence: needs ALERTMANAGER_URL/);
    const withUrl = runRemediator(['validate', files.dir], { ALERTMANAGER_URL: 'http://127.0.0.1:9093' });
    assert.equal((await withUrl.exited).code, 0, withUrl.output());
  });
});
