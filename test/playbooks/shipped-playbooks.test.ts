import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { loadPlaybooks } from '../../src/playbooks/load-playbooks.js';
import { formatProblem } from '../../src/sources/index.js';
import type { RunData } from '../../src/core/run-data.js';
import { lines } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { mailText, startSmtp, type TestSmtp } from '../helpers/smtp-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runEnded } from '../helpers/run-end.js';
import { postWebhook, webhookBody, type AlertSpec } from '../helpers/webhook.js';

const remediations = fileURLToPath(new URL('../../remediations', import.meta.url));

describe('the playbooks shipped in remediations/', () => {
  test('the default playbooks load cleanly against the shipped inventory', async () => {
    const inventory = await loadInventory(`${remediations}/inventory.yaml`, { required: true, readSecret: () => 'unused' });
    assert.ok(inventory.success, JSON.stringify(inventory));
    const result = await loadPlaybooks(
      remediations,
      createDefaultActions({
        smtpUrl: undefined,
        smtpFrom: 'a@b',
        prometheusUrl: undefined,
        path: undefined,
        inventory: inventory.inventory,
      }),
    );
    assert.ok(result.success, result.success ? '' : result.problems.map(formatProblem).join('\n'));
    assert.ok(result.playbooks.some((playbook) => playbook.name === 'redis-primary-failover' && playbook.resolved?.delayMs === 0));
  });

  test('every recipe in remediations/examples/ loads cleanly', async () => {
    const files = (await readdir(`${remediations}/examples`)).filter((name) => name.endsWith('.yaml'));
    const result = await loadPlaybooks(
      `${remediations}/examples`,
      createDefaultActions({ smtpUrl: undefined, smtpFrom: 'a@b', prometheusUrl: undefined, path: undefined }),
    );
    assert.ok(result.success, result.success ? '' : result.problems.map(formatProblem).join('\n'));
    assert.equal(result.playbooks.length, files.length, 'one playbook per file, none skipped');
  });
});

/** The shipped playbook files `names`, as file name → YAML, for a test service. */
async function shippedFiles(...names: string[]): Promise<Record<string, string>> {
  return Object.fromEntries(
    await Promise.all(names.map(async (name) => [`${name}.yaml`, await readFile(join(remediations, `${name}.yaml`), 'utf8')] as const)),
  );
}

/** Posts one alert and returns the ids of the runs it started, by playbook. */
async function postAlert(app: TestService, alert: AlertSpec, withoutGeneratorUrl = false): Promise<Map<string, string>> {
  const body = webhookBody([alert]) as { alerts: Record<string, unknown>[] };
  if (withoutGeneratorUrl) for (const item of body.alerts) delete item.generatorURL;
  const response = await postWebhook(app.url, body);
  assert.equal(response.status, 202, JSON.stringify(response.body));
  return new Map((response.body as { runs: { jobId: string; playbook: string }[] }).runs.map((run) => [run.playbook, run.jobId]));
}

/** Waits until the run ends and returns its job. */
async function ended(app: TestService, jobId: string | undefined): Promise<Job<RunData>> {
  assert.ok(jobId, 'a run was started');
  return runEnded(app, jobId);
}

describe('the shipped notification playbooks page for alerts that lack optional fields', () => {
  let redis: TestRedis;
  let smtp: TestSmtp;
  let app: TestService;

  before(async () => {
    [redis, smtp] = await Promise.all([startRedis(), startSmtp()]);
    app = await startTestService({
      redisUrl: redis.url,
      smtpUrl: smtp.url,
      playbooks: await shippedFiles(
        'instance-down-notify',
        'instance-recovered-notify',
        'no-healthy-instances-escalate',
        'replication-lag-hold',
      ),
    });
  });

  after(async () => {
    await app.close();
    await Promise.all([smtp.stop(), redis.stop()]);
  });

  const mailsAbout = (subject: RegExp) => smtp.messages.filter((mail) => subject.test(/^Subject: (.*)$/m.exec(mail.raw)?.[1] ?? ''));
  const textAbout = (subject: RegExp) => {
    const mails = mailsAbout(subject);
    assert.equal(mails.length, 1, `one mail about ${String(subject)}`);
    return mailText(mails[0] ?? { from: undefined, to: [], raw: '' });
  };

  test('instance-down-notify mails the on-call for an InstanceDown without a summary annotation, saying it has none', async () => {
    const runs = await postAlert(app, { labels: { alertname: 'InstanceDown', instance: 'web-6:9100', cluster: 'web', role: 'primary' } });
    const job = await ended(app, runs.get('instance-down-notify'));
    assert.equal(await job.getState(), 'completed', job.failedReason);
    const mails = mailsAbout(/web-6:9100 is down/);
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]?.to, ['oncall@example.com']);
    const text = mailText(mails[0]);
    assert.match(text, /^\(the alert has no summary annotation\)$/m);
    assert.match(text, /^cluster: +web$/m);
  });

  test('instance-down-notify also mails for an InstanceDown from another rule, without role, cluster or generatorURL', async () => {
    const runs = await postAlert(app, { labels: { alertname: 'InstanceDown', instance: 'web-7:9100' } }, true);
    const job = await ended(app, runs.get('instance-down-notify'));
    assert.equal(await job.getState(), 'completed', job.failedReason);
    assert.equal(job.data.target, 'none/web-7:9100');
    const text = textAbout(/web-7:9100 is down/);
    assert.match(text, /^cluster: +\(none\)$/m);
    assert.match(text, /^alert: +\(no link to Prometheus\)$/m);
    assert.match(JSON.stringify(job.data.steps[0]?.output ?? {}), /no role/);
  });

  test('instance-down-notify puts the summary and the link in the mail when the alert has them', async () => {
    const runs = await postAlert(app, {
      labels: { alertname: 'InstanceDown', instance: 'web-8:9100', cluster: 'web', role: 'replica' },
      annotations: { summary: 'web-8 stopped answering' },
    });
    const job = await ended(app, runs.get('instance-down-notify'));
    assert.equal(await job.getState(), 'completed', job.failedReason);
    const text = textAbout(/web-8:9100 is down/);
    assert.match(text, /^web-8 stopped answering$/m);
    assert.match(text, /^alert: +http:\/\/prometheus\.test\/graph/m);
    assert.doesNotMatch(text, /no summary annotation/);
  });

  test('the recovery, escalation and lag-hold mails go out for alerts without annotations', async () => {
    const recovered = await postAlert(app, { status: 'resolved', labels: { alertname: 'InstanceDown', instance: 'web-9:9100' } });
    const escalate = await postAlert(app, { labels: { alertname: 'NoHealthyInstances', cluster: 'nowhere' } });
    const lag = await postAlert(app, { labels: { alertname: 'ReplicationLag', cluster: 'cache', instance: 'cache-b:6382' } });
    assert.equal(
      (await ended(app, recovered.get('instance-recovered-notify'))).data.steps.find((step) => step.name === 'tell-oncall')?.status,
      'succeeded',
    );
    assert.equal(
      (await ended(app, escalate.get('no-healthy-instances-escalate'))).data.steps.find((step) => step.name === 'escalate')?.status,
      'succeeded',
    );
    assert.equal(
      (await ended(app, lag.get('replication-lag-hold'))).data.steps.find((step) => step.name === 'tell-oncall')?.status,
      'succeeded',
    );
    assert.equal(mailsAbout(/web-9:9100 recovered/).length, 1);
    assert.match(textAbout(/ESCALATION: no member of nowhere/), /no description annotation/);
    assert.match(textAbout(/cache: replica cache-b:6382 lagging/), /no description annotation/);
  });
});

describe('stream-primary-restart connects ssh to the host of the instance label', () => {
  let redis: TestRedis;
  let bin: { path: string; remove: () => Promise<void> };
  let argvFile: string;
  let live: TestService;
  let dry: TestService;
  const instance = 'stream-a:1935';

  before(async () => {
    [redis, bin] = await Promise.all([startRedis(), tempDir('remediator-fake-ssh-')]);
    // No sshd on another host can run in a test: a stand-in `ssh` first on the step's PATH records its argv, one
    // argument a line, which is all this test is about (what remediator hands to ssh).
    argvFile = join(bin.path, 'argv');
    await writeFile(join(bin.path, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}'\n`, { mode: 0o755 });
    const playbooks = await shippedFiles('stream-primary-restart');
    const actions = createDefaultActions({
      smtpUrl: undefined,
      smtpFrom: 'a@b',
      prometheusUrl: undefined,
      path: `${bin.path}:/usr/bin:/bin`,
    });
    const queueName = `stream-${randomUUID()}`;
    live = await startTestService({ redisUrl: redis.url, playbooks, actions, settings: { queueName } });
    dry = await startTestService({ redisUrl: redis.url, playbooks, actions, settings: { queueName: `${queueName}-dry`, dryRun: true } });
  });

  after(async () => {
    await Promise.all([live.close(), dry.close()]);
    await Promise.all([redis.stop(), bin.remove()]);
  });

  const alert: AlertSpec = { labels: { alertname: 'InstanceDown', service: 'stream', role: 'primary', cluster: 'cupola', instance } };

  test('ssh gets the host alone as the one argument after --', async () => {
    const job = await ended(live, (await postAlert(live, alert)).get('stream-primary-restart'));
    assert.equal(job.data.steps[0]?.status, 'succeeded', JSON.stringify(job.data.steps[0]));
    assert.deepEqual(await lines(argvFile), [
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '--',
      'stream-a',
      'sudo',
      'systemctl',
      'restart',
      'nginx',
    ]);
  });

  test('the target and the verification query keep the whole instance', async () => {
    const job = await ended(dry, (await postAlert(dry, alert)).get('stream-primary-restart'));
    assert.equal(job.data.target, instance);
    assert.deepEqual(
      job.data.steps.map((step) => step.status),
      ['would-run', 'would-run'],
    );
    assert.equal((job.data.steps[0]?.params as { command: string[] }).command[6], 'stream-a');
    assert.equal((job.data.steps[1]?.params as { query: string }).query, `up{instance="${instance}"} == 1`);
  });
});
