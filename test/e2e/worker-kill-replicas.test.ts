import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { runDataSchema } from '../../src/core/run-data.js';
import { lines } from '../helpers/lines.js';
import { processesMatching } from '../helpers/processes.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const alertCount = 20;
const steps = ['notify', 'promote', 'verify'] as const;
const token = 'kill-replicas-token';

/** A notification API that dedupes by Idempotency-Key, as a real one would; it counts deliveries and applied effects. */
interface CountingApi {
  readonly url: string;
  /** `<run> <step>` of every request received. */
  readonly deliveries: string[];
  /** `<run> <step>` of every request applied (the first one of its Idempotency-Key). */
  readonly applied: string[];
  close(): Promise<void>;
}

async function startCountingApi(): Promise<CountingApi> {
  const deliveries: string[] = [];
  const applied: string[] = [];
  const keys = new Set<string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const { run, step } = JSON.parse(body) as { run: string; step: string };
      deliveries.push(`${run} ${step}`);
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string' && !keys.has(key)) {
        keys.add(key);
        applied.push(`${run} ${step}`);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    applied,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Counts equal lines. */
function tally(items: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

describe('SIGKILL of one of three replicas in the middle of a run', () => {
  let redis: TestRedis;
  let api: CountingApi;
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  let replicas: RemediatorProcess[] = [];
  const queueName = `kill-replicas-${randomUUID()}`;

  before(async () => {
    redis = await startRedis();
    api = await startCountingApi();
    dir = await tempDir();
    await mkdir(join(dir.path, 'markers'));
    // Every side effect leaves a line: `deliveries` has one per execution of an exec step (with the pid of the
    // worker that ran it), `effects` one per effect applied. notify and verify append, so a repeat would count
    // twice; promote is the slow step, the one a kill interrupts, and is idempotent the way a real playbook's
    // must be: keyed by the run id, it applies its effect only if no earlier attempt of the same run did.
    playbooks = await writePlaybooks({
      'failover.yaml': `
name: failover
match: '{alertname="InstanceDown"}'
target: '{{ labels.instance }}'
steps:
  - name: notify
    action: http
    with:
      url: ${api.url}/notify
      headers: { Idempotency-Key: '{{ run.id }}-notify' }
      body: { run: '{{ run.id }}', step: notify }
  - name: promote
    action: exec
    timeout: 30s
    with:
      command:
        - sh
        - -c
        - |
          echo "$1 promote started $PPID" >> "$2/deliveries"
          sleep 2
          if (set -C; echo "$PPID" > "$2/markers/$1.promote") 2>/dev/null; then echo "$1 promote" >> "$2/effects"; fi
          echo "$1 promote finished $PPID" >> "$2/deliveries"
        - sh
        - '{{ run.id }}'
        - ${dir.path}
  - name: verify
    action: exec
    with:
      command: [sh, -c, 'echo "$1 verify started $PPID" >> "$2/deliveries"; echo "$1 verify" >> "$2/effects"', sh, '{{ run.id }}', '${dir.path}']
`,
    });
    // One run at a time per replica, so the kill interrupts exactly one run, in its promote step. A short lock
    // and stalled check let a surviving replica take the orphaned run within seconds (as crash-recovery does).
    const env = {
      REDIS_URL: redis.url,
      QUEUE_NAME: queueName,
      REMEDIATIONS_DIR: playbooks.dir,
      WEBHOOK_TOKEN: token,
      WORKER_CONCURRENCY: '1',
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
    replicas = await Promise.all([0, 1, 2].map(() => startRemediatorProcess(env)));
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await api.close();
    await playbooks.remove();
    await dir.remove();
    await redis.stop();
  });

  test('20 alerts posted to every replica: 20 runs, each step applied exactly once, the interrupted step re-delivered once', async (t) => {
    const deliveriesFile = join(dir.path, 'deliveries');
    const effectsFile = join(dir.path, 'effects');
    const bodies = Array.from({ length: alertCount }, (_, i) =>
      webhookBody([
        {
          labels: { alertname: 'InstanceDown', instance: `db-${i}` },
          fingerprint: (0xa000_0000_0000_0000n + BigInt(i)).toString(16),
        },
      ]),
    );
    const answers = await Promise.all(replicas.flatMap((replica) => bodies.map((body) => postWebhook(replica.url, body, token))));
    assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [202]);
    // A body a replica already accepted is answered { redelivered: true } by the next, without its runs.
    const jobIds = new Set(
      answers.flatMap((answer) => (answer.body as { runs?: { jobId: string }[] }).runs?.map((run) => run.jobId) ?? []),
    );
    assert.equal(jobIds.size, alertCount, 'every replica computed the same job id for an alert');

    const queue = new Queue(queueName, { connection: redis.client() });
    try {
      // Let a few runs finish first, so the kill lands while runs are in flight on every replica.
      await waitFor(
        'three finished runs',
        async () => (await lines(effectsFile)).filter((line) => line.endsWith(' verify')).length >= 3,
        30_000,
        50,
      );
      const seen = new Set(await lines(deliveriesFile));
      const pids = new Map(replicas.map((replica) => [String(replica.child.pid), replica]));
      // The next promote to start: the replica running it has just begun a 2 s sleep, so the kill lands mid-step.
      const started = await waitFor(
        'a promote step to start',
        async () => (await lines(deliveriesFile)).find((line) => !seen.has(line) && / promote started /.test(line)),
        20_000,
        10,
      );
      const [victimRun = '', , , victimPid = ''] = started.split(' ');
      const victim = pids.get(victimPid);
      assert.ok(victim, `the promote step ran in a replica (pid ${victimPid})`);
      // SIGKILL to its process group: the worker dies. Its step's program, in a group of its own, either finishes
      // its 2 s or is ended by the replica taking the run over; promote is idempotent either way.
      await victim.kill();
      const killedAt = Date.now();
      const activeAtKill = (await queue.getJobCounts('active')).active;
      assert.ok(
        !(await lines(deliveriesFile)).includes(`${victimRun} promote finished ${victimPid}`),
        'the step was cut off before it finished',
      );
      assert.equal(await (await queue.getJob(victimRun))?.getState(), 'active', 'the killed replica still holds the run');

      await waitFor(
        `all ${alertCount} runs to complete`,
        async () => (await queue.getJobCounts('completed')).completed === alertCount,
        45_000,
        100,
      );
      // Every post was answered 202, so every job is queued: a duplicate run has ended once none is left. A late
      // re-delivery would come from a program of the interrupted run still running (its argv holds the run id).
      await waitForIdleQueue(queue);
      await waitFor(
        'every program of the interrupted run to end',
        async () => (await processesMatching((argv) => argv.includes(victimRun))).length === 0,
        15_000,
      );
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, completed: alertCount, failed: 0 });
      const completed = await queue.getJobs(['completed']);
      assert.deepEqual(new Set(completed.map((job) => job.id)), jobIds, 'one run per distinct alert, no other');

      // Raw deliveries of every (run, step), and the effects applied.
      const executions = (await lines(deliveriesFile))
        .filter((line) => line.includes(' started '))
        .map((line) => line.split(' ').slice(0, 2).join(' '));
      const delivered = tally([...api.deliveries, ...executions]);
      const applied = tally([...api.applied, ...(await lines(effectsFile))]);
      const interrupted = `${victimRun} promote`;
      const repeated: string[] = [];
      for (const run of jobIds) {
        for (const step of steps) {
          const key = `${run} ${step}`;
          assert.equal(applied.get(key), 1, `${key} applied exactly once`);
          assert.equal(
            delivered.get(key),
            key === interrupted ? 2 : 1,
            `${key} delivered ${key === interrupted ? 'twice (the step the kill cut off)' : 'once'}`,
          );
          if ((delivered.get(key) ?? 0) > 1) repeated.push(`${key} ×${delivered.get(key) ?? 0}`);
        }
      }
      assert.equal(applied.size, alertCount * steps.length, 'no effect of any other run or step');
      assert.equal(delivered.size, alertCount * steps.length);

      const victimJob = await queue.getJob(victimRun);
      const recoveredAfterMs = (victimJob?.finishedOn ?? Number.NaN) - killedAt;
      const victimData = runDataSchema.parse(victimJob?.data);
      assert.deepEqual(
        victimData.steps.map((step) => [step.name, step.status, step.attempts]),
        [
          ['notify', 'succeeded', 1],
          ['promote', 'succeeded', 2],
          ['verify', 'succeeded', 1],
        ],
        'the checkpointed notify was not repeated; promote ran again to completion',
      );
      const promoteLines = (await lines(deliveriesFile)).filter((line) => line.startsWith(`${victimRun} promote `));
      assert.equal(promoteLines[0], `${victimRun} promote started ${victimPid}`);
      // The killed replica's program may still have finished its sleep before the run was taken over; the run's
      // promote ran again, to its end, on a survivor.
      const [retry, ...more] = promoteLines.slice(1).filter((line) => line.includes(' promote started '));
      assert.ok(retry !== undefined && more.length === 0, `promote started again once: ${promoteLines.join('; ')}`);
      const survivorPid = retry.split(' ').at(-1);
      assert.notEqual(survivorPid, victimPid, `a surviving replica ran it again: ${promoteLines.join('; ')}`);
      assert.equal(
        promoteLines.at(-1),
        `${victimRun} promote finished ${survivorPid ?? ''}`,
        `a surviving replica finished the run: ${promoteLines.join('; ')}`,
      );

      const total = [...delivered.values()].reduce((sum, count) => sum + count, 0);
      t.diagnostic(
        `killed pid ${victimPid} in ${victimRun} promote with ${activeAtKill} runs active; that run completed ${recoveredAfterMs} ms later on a survivor; ${jobIds.size} runs, ` +
          `${applied.size} (run, step) effects each applied once; ${total} raw deliveries, repeated: ${repeated.join(', ')}`,
      );
    } catch (error) {
      // What a failure needs to be understood: where the runs are, what ran, and each replica's last log lines.
      t.diagnostic(`queue: ${JSON.stringify(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'))}`);
      t.diagnostic(`deliveries:\n${(await lines(deliveriesFile)).join('\n')}\nhttp: ${api.deliveries.join(', ')}`);
      for (const replica of replicas) t.diagnostic(`replica ${replica.child.pid ?? '?'}:\n${replica.output().slice(-3000)}`);
      throw error;
    } finally {
      await queue.close();
    }
  });
});
