import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import type { RunView } from '../../src/runs/run-view.js';
import { launchChromium, loopbackContext } from '../helpers/browser.js';
import { lines } from '../helpers/lines.js';
import { fenceThenPromote, type FenceThenPromote } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const admin = { username: 'admin', password: 'pw' };
const adminHeader = { authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}` };

/** Runs `step`; if it throws, saves a screenshot of `page` to a temp dir that is kept, and names it in the test output. */
async function screenshotOnFailure<T>(t: TestContext, page: Page, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const path = join(await mkdtemp(join(tmpdir(), 'remediator-queue-ui-')), 'failure.png');
    try {
      await page.screenshot({ path, fullPage: true });
      t.diagnostic(`screenshot of ${page.url()} at the failure: ${path}`);
    } catch (screenshotError) {
      t.diagnostic(`no screenshot: ${String(screenshotError)}`);
    }
    throw error;
  }
}

/**
 * The button in `scope` called `name`. Bull Board 9 draws the job actions as icon buttons whose only label is
 * a tooltip shown on hover; older versions gave them text. Either way the user finds it by that word.
 */
async function buttonLabelled(page: Page, scope: Locator, name: string): Promise<Locator> {
  const named = scope.getByRole('button', { name, exact: true });
  if ((await named.count()) > 0) return named.first();
  const tooltip = page.getByText(name, { exact: true });
  const buttons = await scope.getByRole('button').all();
  for (const button of buttons) {
    await button.hover();
    const shown = await tooltip.waitFor({ state: 'visible', timeout: 2000 }).then(
      () => true,
      () => false,
    );
    if (shown) return button;
  }
  throw new Error(`no button labelled ${JSON.stringify(name)} among ${buttons.length} buttons`);
}

describe('the queue UI in a real browser', () => {
  let redis: TestRedis;
  let app: TestService;
  let browser: Browser;
  let dir: { path: string; remove: () => Promise<void> };
  let playbook: FenceThenPromote;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    redis = await startRedis();
    cleanups.push(() => redis.stop());
    dir = await tempDir();
    cleanups.push(() => dir.remove());
    // The promote step fails until the test creates `replica-ready`; attempts: 1 fails the run at once.
    playbook = fenceThenPromote(dir.path);
    app = await startTestService({
      redisUrl: redis.url,
      settings: { adminPassword: admin.password },
      playbooks: { 'fence-then-promote.yaml': playbook.yaml },
    });
    cleanups.push(() => app.close());
    browser = await launchChromium();
    cleanups.push(() => browser.close());
  });

  after(async () => {
    // Browser first, then the service, then Redis: the reverse of start-up.
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test(
    'a browser without the admin credentials gets 401 at /queues, and so does one with a wrong password',
    { timeout: 20_000 },
    async () => {
      const anonymous = await loopbackContext(browser);
      try {
        const page = await anonymous.newPage();
        const response = page.waitForResponse((candidate) => new URL(candidate.url()).pathname === '/queues');
        // Headless Chromium with no credentials to offer aborts the navigation (ERR_INVALID_AUTH_CREDENTIALS);
        // what the server answered is the document response either way.
        await page.goto(`${app.url}/queues`).catch(() => undefined);
        const document = await response;
        assert.equal(document.status(), 401);
        assert.match(document.headers()['www-authenticate'] ?? '', /^Basic /);
        assert.equal((await anonymous.request.get(`${app.url}/queues/api/queues`)).status(), 401, 'the board API too');
      } finally {
        await anonymous.close();
      }

      const wrong = await loopbackContext(browser, { httpCredentials: { username: admin.username, password: 'nope' } });
      try {
        const response = await (await wrong.newPage()).goto(`${app.url}/queues`);
        assert.equal(response?.status(), 401);
      } finally {
        await wrong.close();
      }
    },
  );

  test(
    'the board loads nothing from off this machine and breaks no rule of its Content-Security-Policy, which it is served with',
    { timeout: 30_000 },
    async (t) => {
      const context = await browser.newContext({ httpCredentials: admin });
      t.after(() => context.close());
      context.setDefaultTimeout(10_000);
      const requested: string[] = [];
      context.on('request', (request) => {
        requested.push(request.url());
      });
      await context.route(
        (url) => url.hostname !== '127.0.0.1',
        (route) => route.abort(),
      );
      // Every CSP violation, as the page itself sees it.
      await context.addInitScript({
        content: `window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => { window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI); });`,
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => {
        problems.push(error.message);
      });

      await screenshotOnFailure(t, page, async () => {
        const document = await page.goto(`${app.url}/queues`);
        assert.equal(document?.status(), 200);
        const headers = document.headers();
        assert.equal(headers['x-frame-options'], 'DENY');
        assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
        assert.match(headers['content-security-policy'] ?? '', /script-src 'self'(;|$)/);
        assert.equal(headers['x-content-type-options'], 'nosniff');
        assert.equal(headers['referrer-policy'], 'no-referrer');
        assert.equal(headers['x-powered-by'], undefined);
        // The board draws, lists the queue, and opens it with its jobs' states (scripts and styles loaded).
        await page.getByRole('navigation').getByRole('link', { name: app.queueName, exact: true }).click();
        await page.getByRole('heading', { name: app.queueName, exact: true }).waitFor();
        await page
          .getByRole('main')
          .getByRole('link', { name: /^completed\b/i })
          .click();
        await page.waitForURL((url) => url.searchParams.get('status') === 'completed');
        await page.waitForLoadState('networkidle');
        const api = await context.request.get(`${app.url}/queues/api/queues`);
        assert.equal(api.headers()['x-powered-by'], undefined, 'nor does its API announce express');
      });
      const offMachine = requested.filter((url) => new URL(url).hostname !== '127.0.0.1');
      assert.deepEqual(offMachine, [], 'every request stays on 127.0.0.1');
      assert.ok(
        requested.some((url) => /\/queues\/static\/js\/.*\.js$/.test(url)),
        'the board loaded its scripts',
      );
      assert.deepEqual(await page.evaluate('window.cspViolations'), []);
      assert.deepEqual(problems, []);
    },
  );

  test(
    "a failed run is retried with the job's Retry button in Bull Board and completes without repeating its first step",
    { timeout: 60_000 },
    async (t) => {
      const accepted = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'PrimaryDown', instance: 'pg-1' } }]));
      assert.equal(accepted.status, 202);
      const jobId = (accepted.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
      assert.ok(jobId);
      await waitFor(`run ${jobId} to fail`, async () => (await app.service.queue.getJobState(jobId)) === 'failed', 20_000);
      assert.deepEqual(await lines(playbook.fenceLog), ['fenced']);
      assert.deepEqual(await lines(playbook.promoteLog), ['try']);
      await writeFile(playbook.replicaReady, '');

      const context = await loopbackContext(browser, { httpCredentials: admin });
      t.after(() => context.close());
      const page = await context.newPage();
      // Older Bull Boards confirm with window.confirm; accept it if one comes.
      page.on('dialog', (dialog) => void dialog.accept());

      await screenshotOnFailure(t, page, async () => {
        const overview = await page.goto(`${app.url}/queues`);
        assert.equal(overview?.status(), 200);
        await page.getByRole('navigation').getByRole('link', { name: app.queueName, exact: true }).click();
        await page.getByRole('heading', { name: app.queueName, exact: true }).waitFor();

        await page
          .getByRole('main')
          .getByRole('link', { name: /^failed\b/i })
          .click();
        await page.waitForURL((url) => url.pathname === `/queues/queue/${app.queueName}` && url.searchParams.get('status') === 'failed');
        const jobLink = page.getByRole('link', { name: jobId, exact: true });
        await jobLink.waitFor();
        // The job's card: the innermost block holding both its link and its detail tabs (Error, Data, …).
        const card = page
          .locator('div')
          .filter({ has: jobLink })
          .filter({ has: page.getByRole('tablist') })
          .last();
        await card.getByText('REM_STEP_FAILED').first().waitFor();

        await (await buttonLabelled(page, card, 'Retry')).click();
        // Bull Board 9 asks in an in-page alert dialog; some versions or settings retry at once.
        const confirm = page.getByRole('alertdialog').getByRole('button', { name: /^(confirm|ok|yes)$/i });
        await waitFor(
          `the retry of ${jobId} to be confirmed or to take effect`,
          async () => {
            if (await confirm.isVisible()) {
              await confirm.click();
              return true;
            }
            return (await app.service.queue.getJobState(jobId)) !== 'failed';
          },
          10_000,
        );

        const run = await waitFor(
          `run ${jobId} to complete after the retry`,
          async () => {
            const response = await fetch(`${app.url}/api/runs/${encodeURIComponent(jobId)}`, { headers: adminHeader });
            const view = (await response.json()) as RunView;
            return view.state === 'completed' ? view : undefined;
          },
          20_000,
        );
        assert.deepEqual(
          run.steps.map(({ name, status, attempts }) => ({ name, status, attempts })),
          [
            { name: 'fence', status: 'succeeded', attempts: 1 },
            { name: 'promote', status: 'succeeded', attempts: 2 },
          ],
        );
        assert.deepEqual(await lines(playbook.fenceLog), ['fenced'], 'the fence step ran exactly once in total');
        assert.deepEqual(await lines(playbook.promoteLog), ['try', 'try'], 'the promote step ran again');

        // The board shows the run under Completed now.
        await page
          .getByRole('main')
          .getByRole('link', { name: /^completed\b/i })
          .click();
        await page.waitForURL((url) => url.searchParams.get('status') === 'completed');
        await page.getByRole('link', { name: jobId, exact: true }).waitFor();
      });
    },
  );
});
