import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { withTestService } from '../helpers/service-suite.js';

const password = 'cli-admin-pw-5b7c';

describe('the CLI admin commands against a running remediator', () => {
  const suite = withTestService({ playbooks: { 'note-down.yaml': noteDownPlaybook }, settings: { adminPassword: password } });

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
});
