import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { withTestService } from '../helpers/service-suite.js';
import { waitFor } from '../helpers/wait.js';

const password = 'cli-admin-pw-5b7c';

/** A playbook whose one step always fails, at once and for good. */
const failsPlaybook = `
name: fails
match: '{alertname="Broken"}'
retry: { attempts: 1, backoff: 1ms }
steps:
  - { name: fail, action: exec, with: { command: ['false'] } }
`;

describe('the CLI admin commands against a running remediator', () => {
  const suite = withTestService({
    playbooks: { 'note-down.yaml': noteDownPlaybook, 'fails.yaml': failsPlaybook },
    settings: { adminPassword: password },
  });

  /** Runs `remediator ARGS` against the test server; its exit code and output. */
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const command = runRemediator(args, { REMEDIATOR_URL: suite.app().url, ADMIN_PASSWORD: password, ...env });
    const exit = await command.exited;
    return { code: exit.code, output: command.output() };
  };

  test('hold, holds, run, unhold and audit act through the API and print its answer; the audit names the user', async () => {
    const held = await cli(['hold', 'node-1', '--ttl', '1h', '--reason', 'kernel patching']);
    assert.equal(held.code, 0, held.output);
    assert.match(held.output, /"by": "admin"/);
    assert.match((await cli(['holds'])).output, /kernel patching/);

    const run = await cli(['run', 'note-down', '--label', 'alertname=InstanceDown', '--label', 'instance=node-7']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /"playbook": "note-down"/);

    assert.equal((await cli(['unhold', 'node-1'])).code, 0);
    const audit = await cli(['audit', '--limit', '3']);
    assert.equal(audit.code, 0, audit.output);
    const { entries } = JSON.parse(audit.output) as { entries: { action: string; user: string }[] };
    assert.deepEqual(
      entries.map((entry) => [entry.action, entry.user]),
      [
        ['unhold', 'admin'],
        ['run', 'admin'],
        ['hold', 'admin'],
      ],
    );
  });

  test('a refusal exits 1 with the status and the reason; no password exits 2 and says what to set', async () => {
    const notFound = await cli(['unhold', 'nothing-held']);
    assert.equal(notFound.code, 1);
    assert.match(notFound.output, /answered 404: .*HOLD_NOT_FOUND/s);
    const wrong = await cli(['holds'], { ADMIN_PASSWORD: 'wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.output, /answered 401/);
    const bad = await cli(['run', 'note-down', '--label', 'novalue']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /--label novalue: expected name=value/);
    const none = await cli(['holds'], { ADMIN_PASSWORD: '' });
    assert.equal(none.code, 2);
    assert.match(none.output, /set ADMIN_PASSWORD/);
  });

  test('pause, resume and retry act through the API; only a failed run is retried, and the audit has each', async () => {
    const paused = await cli(['pause']);
    assert.deepEqual([paused.code, JSON.parse(paused.output)], [0, { paused: true }]);
    const resumed = await cli(['resume']);
    assert.deepEqual([resumed.code, JSON.parse(resumed.output)], [0, { paused: false }]);

    const started = await cli(['run', 'fails', '--label', 'alertname=Broken']);
    assert.equal(started.code, 0, started.output);
    const jobId = (JSON.parse(started.output) as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    const failedOnce = () =>
      waitFor('the run to fail', async () => {
        const job = await suite.app().service.queue.getJob(jobId);
        return job && (await job.getState()) === 'failed' ? job : undefined;
      });
    assert.equal((await failedOnce()).attemptsMade, 1);
    const retried = await cli(['retry', jobId]);
    assert.deepEqual([retried.code, JSON.parse(retried.output)], [0, { id: jobId, retried: true }]);
    await waitFor('the retry to run', async () => ((await suite.app().service.queue.getJob(jobId))?.attemptsMade ?? 0) >= 2 || undefined);
    await failedOnce();

    const note = await cli(['run', 'note-down', '--label', 'alertname=InstanceDown', '--label', 'instance=node-8']);
    const noteId = (JSON.parse(note.output) as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor(
      'the note run to complete',
      async () => (await (await suite.app().service.queue.getJob(noteId))?.getState()) === 'completed' || undefined,
    );
    const refused = await cli(['retry', noteId]);
    assert.equal(refused.code, 1);
    assert.match(refused.output, /answered 409: .*NOT_FAILED/s);
    assert.match((await cli(['retry', 'no-such-run'])).output, /answered 404: .*RUN_NOT_FOUND/s);

    const { entries } = JSON.parse((await cli(['audit', '--limit', '7'])).output) as { entries: { action: string; outcome: string }[] };
    assert.deepEqual(
      entries.reverse().map((entry) => `${entry.action} ${entry.outcome}`),
      ['pause paused', 'resume resumed', 'run enqueued', 'retry retried', 'run enqueued', 'retry completed', 'retry not-found'],
    );
  });
});
