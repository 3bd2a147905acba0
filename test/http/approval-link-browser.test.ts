import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { createAuditLog } from '../../src/state/audit-log.js';
import { freePort } from '../../src/util/free-port.js';
import { formPage, startAttacker, type AttackerSite } from '../helpers/attacker-site.js';
import { launchChromium, loopbackContext } from '../helpers/browser.js';
import { linesFor } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runAwaitingApproval } from '../helpers/run-awaiting-approval.js';
import { runEnded } from '../helpers/run-end.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const key = randomBytes(32).toString('hex');

/** The text of a raw message with its quoted-printable encoding undone (long lines, such as links, are folded). */
function decodedText(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A token with its payload's JSON changed and its signature kept: what someone editing a link would make. */
function tamper(url: string, change: (payload: Record<string, unknown>) => void): string {
  const slash = url.lastIndexOf('/');
  const [payload = '', signature = ''] = url.slice(slash + 1).split('.');
  const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(json);
  return `${url.slice(0, slash + 1)}${Buffer.from(JSON.stringify(json)).toString('base64url')}.${signature}`;
}

describe('approval links: an emailed link opens a confirmation page, and only its confirmation decides', () => {
  let redis: TestRedis;
  let smtp: TestSmtp;
  let app: TestService;
  let browser: Browser;
  let client: Redis;
  let attacker: AttackerSite;
  let dir: { path: string; remove: () => Promise<void> };
  let log: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  const effects = (runId: string) => linesFor(log, runId);
  const stateOf = (id: string) => app.service.queue.getJobState(id);

  async function trigger(alertname: string): Promise<string> {
    const response = await postWebhook(
      app.url,
      webhookBody([{ labels: { alertname, instance: `n-${randomBytes(4).toString('hex')}` }, annotations: { summary: 'disk <full>' } }]),
    );
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
  }
  /** The approve and reject links of the email sent for `runId`, read from the SMTP server. */
  async function emailedLinks(runId: string): Promise<{ approve: string; reject: string; text: string }> {
    const mail = await waitFor(
      `the approval email of ${runId}`,
      () =>
        smtp.messages
          .map((message) => decodedText(message.raw))
          .find((text) => text.includes(`Run: ${runId}\n`) || text.includes(`Run: ${runId}\r\n`)),
      20_000,
    );
    const approve = /Approve: (\S+)/.exec(mail)?.[1];
    const reject = /Reject: (\S+)/.exec(mail)?.[1];
    assert.ok(approve && reject, mail);
    return { approve, reject, text: mail };
  }
  const pending = (id: string) => runAwaitingApproval(app, id);
  const finished = (id: string) => runEnded(app, id);
  /** remediator_approval_link_requests_total by `METHOD outcome`. */
  async function linkCounts(): Promise<Map<string, number>> {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const counts = new Map<string, number>();
    for (const [, method, outcome, value] of text.matchAll(
      /^remediator_approval_link_requests_total\{method="(\w+)",outcome="(\w+)"\} (\d+)$/gm,
    ))
      counts.set(`${method} ${outcome}`, Number(value));
    return counts;
  }
  /** What changed between two readings of linkCounts, leaving out what did not. */
  const countsSince = (before: Map<string, number>, after: Map<string, number>) =>
    Object.fromEntries(
      [...after].flatMap(([name, value]) => (value === (before.get(name) ?? 0) ? [] : [[name, value - (before.get(name) ?? 0)]])),
    );
  /** A form post as the confirmation page makes it, from this server's own origin unless `headers` says otherwise. */
  const postForm = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(url).origin,
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
      body: 'comment=',
    });

  before(async () => {
    [redis, smtp, dir] = await Promise.all([startRedis(), startSmtp(), tempDir()]);
    cleanups.push(
      () => redis.stop(),
      () => smtp.stop(),
      () => dir.remove(),
    );
    log = join(dir.path, 'effects');
    // The links are written with the address people reach remediator at: here, the port it is about to listen on.
    const port = await freePort();
    const playbook = (name: string, alertname: string, timeout: string, user: string) => `
name: ${name}
match: '{alertname="${alertname}"}'
target: '{{ labels.instance }}'
retry: { attempts: 1 }
approval:
  timeout: ${timeout}
  linkUser: ${user}
  notify:
    - name: ask
      action: email
      with:
        to: oncall@example.com
        subject: 'Approve {{ labels.alertname }} on {{ labels.instance }}?'
        text: |
          Run: {{ run.id }}
          Approve: {{ approval.approveUrl }}
          Reject: {{ approval.rejectUrl }}
          For {{ approval.linkUser }} until {{ approval.linkExpiresAt }}
steps:
  - { name: act, action: exec, with: { command: [sh, -c, 'echo "$1 acted" >> "$2"', sh, '{{ run.id }}', '${log}'] } }
`;
    app = await startTestService({
      redisUrl: redis.url,
      smtpUrl: smtp.url,
      secrets: [key],
      settings: { port, approvalLinks: { key, publicUrl: `http://127.0.0.1:${port}` } },
      playbooks: {
        'links.yaml': playbook('approve-by-link', 'ApproveByLink', '1m', 'alice'),
        'short.yaml': playbook('short-links', 'ShortLinks', '1s', 'bob'),
      },
    });
    cleanups.push(() => app.close());
    client = new Redis(redis.url);
    cleanups.push(() => client.quit());
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    attacker = await startAttacker();
    cleanups.push(
      () =>
        new Promise((resolve) => {
          attacker.server.close(resolve);
        }),
    );
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test(
    "a person opens the emailed approve link in a browser, sees what it decides, confirms, and the run proceeds, recorded as the link's user via link",
    { timeout: 60_000 },
    async () => {
      const id = await trigger('ApproveByLink');
      await pending(id);
      const links = await emailedLinks(id);
      assert.match(links.text, /For alice until \d{4}-/);
      const context = await loopbackContext(browser);
      try {
        const page = await context.newPage();
        const opened = await page.goto(links.approve);
        assert.equal(opened?.status(), 200);
        assert.match(opened.headers()['content-security-policy'] ?? '', /default-src 'none'/);
        assert.equal(opened.headers()['x-frame-options'], 'DENY');
        assert.equal(await page.locator('h1').textContent(), 'Approve this run?');
        const facts = (await page.locator('dl').textContent()) ?? '';
        for (const fact of [id, 'approve-by-link', 'ApproveByLink', 'disk <full>', 'alice'])
          assert.ok(facts.includes(fact), `${fact} in ${facts}`);
        assert.equal(await stateOf(id), 'delayed', 'opening the page decided nothing');

        await page.locator('#comment').fill('looked at the dashboard');
        const [confirmed] = await Promise.all([
          page.waitForResponse((response) => response.request().method() === 'POST'),
          page.getByRole('button', { name: 'Approve this run' }).click(),
        ]);
        assert.equal(confirmed.status(), 200);
        // The answer's page replaces the form (a wait on the heading, not on timing).
        await page.getByRole('heading', { name: 'Approved', exact: true }).waitFor();

        const job = await finished(id);
        assert.equal(await stateOf(id), 'completed');
        assert.deepEqual(await effects(id), ['acted']);
        assert.equal(job.data.approval?.state, 'approved');
        assert.equal(job.data.approval.by, 'alice');
        assert.equal(job.data.approval.via, 'link');
        assert.equal(job.data.approval.comment, 'looked at the dashboard');
        // The run's record of the notification keeps its parameters, but not the links: a reader of the run cannot decide with them.
        const recorded = JSON.stringify(job.data.approval.notifySteps);
        assert.match(recorded, /Approve: \[approval link\]/);
        for (const link of [links.approve, links.reject]) assert.ok(!recorded.includes(link.slice(link.lastIndexOf('/') + 1)), recorded);
        const entry = (await createAuditLog(client, { prefix: `remediator:${app.queueName}` }).list({ limit: 20 })).find(
          (candidate) => candidate.target === id,
        );
        assert.equal(entry?.user, 'alice');
        assert.equal(entry.action, 'approve');
        assert.equal(entry.outcome, 'decided');
        assert.deepEqual(entry.detail, { via: 'link', comment: 'looked at the dashboard' });

        // The same link a second time: refused, in the browser and as a direct post.
        const again = await page.goto(links.approve);
        assert.equal(again?.status(), 409);
        assert.equal(await page.locator('h1').textContent(), 'Approval link already used');
        assert.equal(await page.locator('form').count(), 0);
        assert.equal((await postForm(links.approve)).status, 409);
        // The reject link of a decided run: the first decision stands.
        const late = await page.goto(links.reject);
        assert.equal(late?.status(), 409);
        assert.equal(await page.locator('h1').textContent(), 'Already decided');
        assert.equal((await postForm(links.reject)).status, 409);
        assert.equal((await app.service.queue.getJob(id))?.data.approval?.by, 'alice');
      } finally {
        await context.close();
      }
    },
  );

  test(
    'loading a link decides nothing, and a tampered, cut or cross-site link is refused without deciding; its reject link then rejects',
    { timeout: 60_000 },
    async () => {
      const id = await trigger('ApproveByLink');
      await pending(id);
      const links = await emailedLinks(id);
      const before = await linkCounts();
      for (let i = 0; i < 3; i++) assert.equal((await fetch(links.approve)).status, 200);
      assert.equal((await fetch(links.approve, { method: 'HEAD' })).status, 200);

      const otherUser = tamper(links.approve, (payload) => (payload.u = 'mallory'));
      const otherRun = tamper(links.approve, (payload) => (payload.r = 'another-run'));
      const later = tamper(links.approve, (payload) => (payload.e = Number(payload.e) + 86_400_000));
      const flipped = tamper(links.reject, (payload) => (payload.d = 'a'));
      for (const url of [otherUser, otherRun, later, flipped]) {
        assert.equal((await fetch(url)).status, 403, url);
        assert.equal((await postForm(url)).status, 403, url);
      }
      assert.equal((await postForm(links.approve.slice(0, -10))).status, 400, 'a cut link');
      assert.equal((await postForm(`${links.approve.slice(0, -1)}${links.approve.endsWith('A') ? 'B' : 'A'}`)).status, 403);
      // A page on another site cannot make the post, nor can a post that is not the form.
      assert.equal((await postForm(links.approve, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' })).status, 403);
      assert.equal((await postForm(links.approve, { 'content-type': 'application/json' })).status, 415);

      assert.equal(await stateOf(id), 'delayed');
      assert.equal((await app.service.queue.getJob(id))?.data.approval?.state, 'pending');
      assert.deepEqual(await effects(id), []);
      assert.deepEqual(countsSince(before, await linkCounts()), {
        'GET shown': 4,
        'GET bad_signature': 4,
        'POST bad_signature': 5,
        'POST malformed': 1,
        'POST cross_site': 1,
        'POST not_form': 1,
      });
      // None of the refused posts used the link up.
      const context = await loopbackContext(browser);
      try {
        const page = await context.newPage();
        assert.equal((await page.goto(links.reject))?.status(), 200);
        assert.equal(await page.locator('h1').textContent(), 'Reject this run?');
        const [confirmed] = await Promise.all([
          page.waitForResponse((response) => response.request().method() === 'POST'),
          page.getByRole('button', { name: 'Reject this run' }).click(),
        ]);
        assert.equal(confirmed.status(), 200);
        // The answer's page replaces the form (a wait on the heading, not on timing).
        await page.getByRole('heading', { name: 'Rejected', exact: true }).waitFor();
      } finally {
        await context.close();
      }
      const job = await finished(id);
      assert.equal(job.data.skip?.kind, 'approval-rejected');
      assert.equal(job.data.approval?.by, 'alice');
      assert.equal(job.data.approval.via, 'link');
      assert.deepEqual(await effects(id), []);
    },
  );

  test(
    'a page on another site that posts a valid link from a real browser is refused in every encoding, and the link stays usable',
    { timeout: 60_000 },
    async () => {
      const id = await trigger('ApproveByLink');
      await pending(id);
      const links = await emailedLinks(id);
      const context = await loopbackContext(browser, {}, ['127.0.0.1', '127.0.0.2']);
      try {
        const page = await context.newPage();
        const answers: string[] = [];
        for (const enctype of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
          const path = `/forge-${enctype.replace('/', '-')}`;
          attacker.pages.set(path, formPage(links.approve, enctype));
          const answered = page.waitForResponse((response) => response.url() === links.approve && response.request().method() === 'POST');
          await page.goto(`${attacker.url}${path}`);
          answers.push(`${enctype}: ${(await answered).status()}`);
        }
        assert.deepEqual(answers, ['text/plain: 403', 'application/x-www-form-urlencoded: 403', 'multipart/form-data: 403']);
        assert.equal((await app.service.queue.getJob(id))?.data.approval?.state, 'pending');
        assert.equal(await stateOf(id), 'delayed');
        // Not used up: the person it was sent to can still approve it from its own page.
        assert.equal((await page.goto(links.approve))?.status(), 200);
        const [confirmed] = await Promise.all([
          page.waitForResponse((response) => response.request().method() === 'POST'),
          page.getByRole('button', { name: 'Approve this run' }).click(),
        ]);
        assert.equal(confirmed.status(), 200);
      } finally {
        await context.close();
      }
      const job = await finished(id);
      assert.equal(job.data.approval?.via, 'link');
      assert.deepEqual(await effects(id), ['acted']);
    },
  );

  test('a link past its expiry (the approval deadline) is refused with 410, on the page and on a post', { timeout: 60_000 }, async () => {
    const id = await trigger('ShortLinks');
    const links = await emailedLinks(id);
    // The approval times out (onTimeout: abort) at the deadline the links expire with.
    const job = await finished(id);
    assert.equal(job.data.skip?.kind, 'approval-timeout');
    const opened = await fetch(links.approve);
    assert.equal(opened.status, 410);
    assert.match(await opened.text(), /Approval link expired/);
    assert.equal((await postForm(links.approve)).status, 410);
    assert.equal((await app.service.queue.getJob(id))?.data.approval?.by, undefined);
  });
});
