import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import type { PlaybookSilence } from '../../src/core/playbook.js';
import { parseSilenceMatchers } from '../../src/core/silence-matchers.js';
import { createAlertmanagerSilences } from '../../src/reconcile/alertmanager-silences.js';
import type { GateVerdict } from '../../src/runner/gates/gate.js';
import { createSilenceGate } from '../../src/runner/run-silence.js';
import { freePort } from '../../src/util/free-port.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { fakeRun, playbook, runData, type FakeRun } from './fake-run.js';

const parsed = parseSilenceMatchers('{alertname=~"Down|InstanceDown", instance="{{ labels.instance }}"}');
if (!parsed.success) throw new Error(parsed.errors.join('; '));
const silence: PlaybookSilence = { match: '', matchers: parsed.matchers, durationMs: 300_000 };
/** The comment the gate gives the silence of fakeRun's run on `target`: each test has a target of its own. */
const commentOn = (target: string) => `remediator run run-1: playbook failover on ${target}`;

describe("a run's silence across attempts, on a real Alertmanager", () => {
  let am: TestAlertmanager;
  let down: string;
  before(async () => {
    // Nothing is notified in these tests: the webhook is never called.
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/` });
    down = `http://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await am.stop();
  });

  const gateOn = (urls: string[]) => {
    const silenceErrors = new Counter({ name: 'errors', help: 'h', labelNames: ['operation'], registers: [new Registry()] });
    const gate = createSilenceGate(
      { alertmanagers: urls.map((url) => createAlertmanagerSilences({ url, timeoutMs: 2000 })), metrics: { silenceErrors } },
      () => new Date(),
    );
    const errors = async (operation: string) =>
      (await silenceErrors.get()).values.find((value) => value.labels.operation === operation)?.value ?? 0;
    return { gate, errors };
  };
  const fresh = (target: string, extra: Parameters<typeof runData>[0] = {}) =>
    fakeRun({ data: runData({ target, ...extra }), playbook: playbook({ silence }) });
  const ofRun = async (target: string) => {
    const comment = commentOn(target);
    const response = await fetch(`${am.url}/api/v2/silences`);
    const all = (await response.json()) as { id: string; comment: string; status: { state: string } }[];
    return all.filter((found) => found.comment === comment);
  };
  const post = async (target: string): Promise<string> => {
    const now = Date.now();
    const response = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        // What the gate renders for fakeRun's alert: Alertmanager updates a silence in place only when they are the same.
        matchers: [
          { name: 'alertname', value: 'Down|InstanceDown', isRegex: true, isEqual: true },
          { name: 'instance', value: 'cache-a', isRegex: false, isEqual: true },
        ],
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 60_000).toISOString(),
        createdBy: 'remediator',
        comment: commentOn(target),
      }),
    });
    return ((await response.json()) as { silenceID: string }).silenceID;
  };
  const end = async (run: FakeRun, verdict: GateVerdict) => {
    run.finish('succeeded');
    assert.equal(verdict.kind, 'pass');
    await verdict.release?.();
  };

  test('a silence an attempt created but died before recording is found by its comment and kept, not doubled', async () => {
    const id = await post('cache-1');
    const { gate } = gateOn([am.url]);
    const run = fresh('cache-1', { silence: { state: 'creating' } });
    const verdict = await gate.check(run);
    assert.equal(run.data.silence?.id, id);
    assert.equal(run.data.silence.state, 'active');
    assert.deepEqual(
      (await ofRun('cache-1')).filter((found) => found.status.state === 'active').map((found) => found.id),
      [id],
    );
    await end(run, verdict);
    assert.equal(run.data.silence.state, 'expired');
  });

  test('a recorded silence that lapsed before the retry is replaced by one new silence', async () => {
    const lapsed = await post('cache-2');
    await fetch(`${am.url}/api/v2/silence/${lapsed}`, { method: 'DELETE' });
    const { gate, errors } = gateOn([am.url]);
    const run = fresh('cache-2', { silence: { id: lapsed, state: 'active', alertmanager: am.url } });
    const verdict = await gate.check(run);
    const active = (await ofRun('cache-2')).filter((found) => found.status.state === 'active');
    assert.equal(active.length, 1);
    assert.notEqual(active[0]?.id, lapsed);
    assert.equal(run.data.silence?.id, active[0]?.id);
    assert.equal(await errors('extend'), 0);
    await end(run, verdict);
  });

  test('expiry falls back to the other Alertmanager of the pair when the one that created the silence is down', async () => {
    const id = await post('cache-3');
    const { gate, errors } = gateOn([down, am.url]);
    const run = fresh('cache-3', { silence: { id, state: 'active', alertmanager: down } });
    // Extending asks the recorded one first, then finds it on the other.
    const verdict = await gate.check(run);
    assert.equal(run.data.silence?.id, id);
    assert.equal(run.data.silence.alertmanager, am.url);
    run.data.silence.alertmanager = down;
    await end(run, verdict);
    assert.equal(run.data.silence.state, 'expired');
    assert.deepEqual(
      (await ofRun('cache-3')).map((found) => [found.id, found.status.state]),
      [[id, 'expired']],
    );
    assert.equal(await errors('expire'), 0);
  });

  test('when no Alertmanager answers a retry, the recorded silence is kept rather than a second one created, and counted', async () => {
    const { gate, errors } = gateOn([down]);
    const run = fresh('cache-4', { silence: { id: 'recorded', state: 'active', alertmanager: down } });
    const verdict = await gate.check(run);
    assert.deepEqual(run.data.silence, { id: 'recorded', state: 'active', alertmanager: down });
    assert.equal(await errors('extend'), 1);
    await end(run, verdict);
    assert.equal(await errors('expire'), 1);
    assert.match(run.data.silence.error ?? '', /unreachable/);
  });

  test('an attempt that does not end the run (a retry follows) leaves the silence in place', async () => {
    const { gate } = gateOn([am.url]);
    const run = fresh('cache-5');
    const verdict = await gate.check(run);
    assert.equal(verdict.kind, 'pass');
    await verdict.release?.();
    assert.equal(run.data.silence?.state, 'active');
    assert.deepEqual(
      (await ofRun('cache-5')).map((found) => found.status.state),
      ['active'],
    );
    await end(run, await gate.check(run));
    assert.deepEqual(
      (await ofRun('cache-5')).map((found) => found.status.state),
      ['expired'],
    );
  });

  test('a dry run makes no silence', async () => {
    const before = (await ofRun('cache-6')).length;
    const { gate } = gateOn([am.url]);
    const run = fresh('cache-6', { dryRun: true });
    await end(run, await gate.check(run));
    assert.equal(run.data.silence, undefined);
    assert.equal((await ofRun('cache-6')).length, before);
  });
});
