import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formPage, startAttacker, type AttackerSite } from '../helpers/attacker-site.js';
import { launchChromium } from '../helpers/browser.js';
import { linesFor } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const admin = { username: 'admin', password: 'pw' };
const adminHeader = { authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}` };
const encodings = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'] as const;

/** The HTML of a page that fires credentialed no-cors fetches at `targets` and then sets its title to `done`. */
function fetchPage(targets: readonly string[]): string {
  return `<!doctype html><title>firing</title><script>
Promise.allSettled(${JSON.stringify(targets)}.map((target) => fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{"name":"x","data":{}}' })))
  .then(() => { document.title = 'done'; });
</script>`;
}

describe('cross-site requests from a real browser holding the admin credentials', () => {
  let redis: TestRedis;
  let app: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let attacker: AttackerSite;
  let dir: { path: string; remove: () => Promise<void> };
  let log: string;
  let runId = '';
  const cleanups: (() => Promise<unknown>)[] = [];

  const effects = () => linesFor(log, runId);
  const jobCount = async () => Object.values(await app.service.queue.getJobCounts()).reduce((sum, count) => sum + count, 0);
  const paused = async () => ((await (await fetch(`${app.url}/api/pause`, { headers: adminHeader })).json()) as { paused: boolean }).paused;

  /** Opens the attacker's page `path` and returns the status remediator answered the forged navigation with. */
  async function submitFrom(page: Page, path: string, target: string): Promise<number> {
    const answered = page.waitForResponse(
      (response) => response.url() === target && response.request().method() === 'POST' && response.status() !== 401,
    );
    await page.goto(`${attacker.url}${path}`);
    return (await answered).status();
  }

  before(async () => {
    [redis, dir] = await Promise.all([startRedis(), tempDir()]);
    cleanups.push(
      () => redis.stop(),
      () => dir.remove(),
    );
    log = join(dir.path, 'effects');
    app = await startTestService({
      redisUrl: redis.url,
      settings: { adminPassword: admin.password },
      playbooks: {
        'guarded.yaml': `
name: guarded
match: '{alertname="NeedsApproval"}'
target: '{{ labels.instance }}'
retry: { attempts: 1 }
approval: { timeout: 10m }
steps:
  - { name: act, action: exec, with: { command: [sh, -c, 'echo "$1 acted" >> "$2"', sh, '{{ run.id }}', '${log}'] } }
`,
      },
    });
    cleanups.push(() => app.close());
    attacker = await startAttacker();
    cleanups.push(
      () =>
        new Promise((resolve) => {
          attacker.server.close(resolve);
        }),
    );
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    // The admin's browser: it answers remediator's basic-auth challenge, and only remediator's.
    context = await browser.newContext({ httpCredentials: { ...admin, origin: app.url } });
    context.setDefaultTimeout(10_000);
    await context.route(
      (url) => url.hostname !== '127.0.0.1' && url.hostname !== '127.0.0.2',
      (route) => route.abort(),
    );
    cleanups.push(() => context.close());

    const accepted = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'NeedsApproval', instance: 'db-1' } }]));
    assert.equal(accepted.status, 202);
    runId = (accepted.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor(
      `run ${runId} to wait for approval`,
      async () => (await app.service.queue.getJob(runId))?.data.approval?.state === 'pending',
      20_000,
    );
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test(
    'a form posted from another site cannot pause remediation, approve a waiting run or add a job in any encoding',
    { timeout: 60_000 },
    async () => {
      const jobsBefore = await jobCount();
      const targets = {
        pause: `${app.url}/api/pause`,
        approve: `${app.url}/api/runs/${runId}/approve`,
        add: `${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}/add`,
      };
      const page = await context.newPage();
      const answers: string[] = [];
      for (const [name, target] of Object.entries(targets)) {
        for (const enctype of encodings) {
          const path = `/${name}-${enctype.replace('/', '-')}`;
          attacker.pages.set(path, formPage(target, enctype));
          answers.push(`${name} as ${enctype}: ${await submitFrom(page, path, target)}`);
        }
      }
      assert.deepEqual(
        answers,
        Object.keys(targets).flatMap((name) => encodings.map((enctype) => `${name} as ${enctype}: 403`)),
      );
      assert.equal(await paused(), false, 'remediation is not paused');
      assert.equal(await jobCount(), jobsBefore, 'no job was added');
      assert.equal((await app.service.queue.getJob(runId))?.data.approval?.state, 'pending');
      assert.deepEqual(await effects(), [], 'the exec step did not run');
      await page.close();
    },
  );

  test('a credentialed no-cors fetch from another site changes nothing either', { timeout: 30_000 }, async () => {
    const jobsBefore = await jobCount();
    const page = await context.newPage();
    // The admin used the API in this browser earlier, so it holds the credentials. Chromium keys that cache by the
    // top-level site and sends nothing to a fetch from another site (401 without the guard); browsers that do not
    // would send them: the guard refuses the request as cross-site before it looks at credentials.
    const withCredentials = app.url.replace('http://', `http://${admin.username}:${admin.password}@`);
    for (const path of ['/api/runs', `/api/runs/${runId}`, '/queues/api/queues'])
      assert.equal((await page.goto(`${withCredentials}${path}`))?.status(), 200, path);
    const refusals: number[] = [];
    page.on('response', (response) => {
      if (response.url().startsWith(app.url)) refusals.push(response.status());
    });
    attacker.pages.set(
      '/fetch',
      fetchPage([
        `${app.url}/api/pause`,
        `${app.url}/api/runs/${runId}/approve`,
        `${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}/add`,
      ]),
    );
    await page.goto(`${attacker.url}/fetch`);
    await waitFor('the forged fetches to settle', async () => (await page.title()) === 'done', 10_000);
    assert.equal(await paused(), false);
    assert.equal(await jobCount(), jobsBefore);
    assert.equal((await app.service.queue.getJob(runId))?.data.approval?.state, 'pending');
    assert.deepEqual(refusals, [403, 403, 403], 'remediator refused each forged fetch before looking at its credentials');
    await page.close();
  });

  test(
    "the same browser on remediator's own origin still approves the run and pauses and resumes remediation",
    { timeout: 30_000 },
    async () => {
      const page = await context.newPage();
      // Any page of remediator's origin will do: the board is the admin's page there.
      assert.equal((await page.goto(`${app.url}/queues`))?.status(), 200);
      const post = (path: string) =>
        page.evaluate(async (target) => {
          const response = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
          return { status: response.status, body: await response.json() };
        }, path);
      const approved = await post(`/api/runs/${runId}/approve`);
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      await waitFor('the approved run to act', async () => (await effects()).includes('acted'), 20_000);
      assert.deepEqual(await post('/api/pause'), { status: 200, body: { paused: true } });
      assert.deepEqual(await post('/api/resume'), { status: 200, body: { paused: false } });
      await page.close();
    },
  );
});
