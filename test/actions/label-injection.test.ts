import assert from 'node:assert/strict';
import { mkdir, readdir, realpath } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runDataSchema, type StepRecord } from '../../src/core/run-data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { decodeQuotedPrintable, mailHeaders, mailText, startSmtp, type ReceivedMail, type TestSmtp } from '../helpers/smtp-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/** One request the recording HTTP server received, as it arrived on the wire. */
interface RecordedRequest {
  method: string;
  /** The request target exactly as sent (not decoded, not normalised). */
  rawUrl: string;
  /** Header names and values in the order they arrived. */
  rawHeaders: string[];
  body: string;
}

/** A hostile label value. Shell-looking ones would create a file in the canary directory if a shell ran them. */
interface InjectionCase {
  name: string;
  value: string;
}

const permanentCodes = ['REM_STEP_PARAMS_INVALID', 'REM_TEMPLATE_UNKNOWN_REFERENCE', 'REM_STEP_PERMANENT'];

/** Headers nodemailer writes for a plain text mail; anything else in a received mail was injected. */
const mailHeaderNames = new Set([
  'from',
  'to',
  'subject',
  'message-id',
  'content-transfer-encoding',
  'date',
  'mime-version',
  'content-type',
]);

/** Decodes RFC 2047 encoded words (Q and B, UTF-8), dropping the whitespace between adjacent ones. */
function decodeWords(value: string): string {
  const word = /=\?UTF-8\?([QB])\?([^?]*)\?=/gi;
  const joined = value.replace(/(\?=)\s+(?==\?)/g, '$1');
  return joined.replace(word, (_all, kind: string, text: string) => {
    if (kind.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    return decodeQuotedPrintable(text.replace(/_/g, ' '));
  });
}

const lineBreaks = (text: string) => text.replace(/\r\n|\r|\n/g, '\n');

describe('hostile label values flow through exec, http and email steps as inert data', () => {
  let redis: TestRedis;
  let smtp: TestSmtp;
  let app: TestService;
  let recorder: Server;
  let canaries: { path: string; remove: () => Promise<void> };
  /** Holds the directory the cwd playbook names (work/): exec may run there or below, never elsewhere. */
  let workRoot: { path: string; remove: () => Promise<void> };
  let work: string;
  const requests: RecordedRequest[] = [];
  let cases: InjectionCase[];
  /** case name → playbook → the run's job id. */
  const runs = new Map<string, Map<string, string>>();

  before(async () => {
    canaries = await tempDir('remediator-canary-');
    const canary = (name: string) => join(canaries.path, name);
    cases = [
      { name: 'command-substitution', value: `$(touch ${canary('x')})` },
      { name: 'backticks', value: `\`touch ${canary('y')}\`` },
      { name: 'semicolon', value: `; touch ${canary('z')}` },
      { name: 'pipe-and-and', value: `| touch ${canary('w')} && touch ${canary('v')}` },
      { name: 'path-traversal', value: '../../etc/passwd' },
      { name: 'dot-dot-segment', value: '..' },
      { name: 'dot-segment', value: '.' },
      { name: 'encoded-dot-dot', value: '%2e%2e' },
      { name: 'header-after-lf', value: 'a\nInjected-Header: 1' },
      { name: 'header-after-crlf', value: 'a\r\nInjected-Header: 1' },
      { name: 'bare-crlf', value: '\r\n' },
      { name: 'nul-byte', value: 'a\u0000b' },
      { name: 'template-in-value', value: '{{ labels.secret }}' },
      { name: 'json-breakout', value: '", "admin": true, "x": "' },
      {
        name: 'smtp-end-of-data',
        value: '\r\n.\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<evil@attacker.test>\r\nDATA\r\nSubject: owned\r\n\r\nowned\r\n.\r\n',
      },
      { name: 'recipient-comment', value: 'x@attacker.test (' },
      { name: 'unicode-line-separators', value: 'a\u2028Injected-Header: 1\u0085B' },
      { name: 'climb-out', value: '../../../../../../../../../../etc' },
      { name: 'absolute-path', value: '/etc' },
      { name: 'form-field', value: 'x?admin=1&y=2' },
      { name: 'percent-hack', value: 'x%evil.example' },
      { name: 'bang-path', value: 'a!b' },
      { name: 'routed-address', value: 'x%evil.example@example.test' },
      // Controls: values every escape lets through, so each check below also sees a step that ran.
      { name: 'plain', value: 'sub' },
      { name: 'plain-address', value: 'ops.team+1@example.test' },
    ];
    workRoot = await tempDir('remediator-cwd-');
    await mkdir(join(workRoot.path, 'work', 'sub'), { recursive: true });
    work = await realpath(join(workRoot.path, 'work'));

    recorder = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        requests.push({ method: req.method ?? '', rawUrl: req.url ?? '', rawHeaders: req.rawHeaders, body });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('recorded');
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;

    redis = await startRedis();
    smtp = await startSmtp();
    const node = JSON.stringify(process.execPath);
    const printCwd = `[${node}, -e, 'process.stdout.write(process.cwd())']`;
    const retry = 'retry: { attempts: 2, backoff: 100ms }';
    app = await startTestService({
      redisUrl: redis.url,
      smtpUrl: smtp.url,
      playbooks: {
        'inject-exec.yaml': `
name: inject-exec
match: '{alertname="Inject"}'
target: 'exec-{{ labels.case }}'
${retry}
steps:
  - name: argv
    action: exec
    with:
      command: [${node}, -e, 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', --, '{{ labels.x }}', 'pre-{{ labels.x }}-post', '--flag={{ labels.x }}']
`,
        'inject-http.yaml': `
name: inject-http
match: '{alertname="Inject"}'
target: 'http-{{ labels.case }}'
${retry}
steps:
  - name: path-and-body
    action: http
    with:
      url: '${base}/items/{{ labels.x }}/check?case={{ labels.case }}&q={{ labels.x }}'
      body: { value: '{{ labels.x }}', list: ['{{ labels.x }}'] }
  - name: header
    action: http
    with:
      url: '${base}/header?case={{ labels.case }}'
      headers: { X-Label: '{{ labels.x }}', Content-Type: text/plain }
      body: 'raw {{ labels.x }}'
`,
        'inject-http-body.yaml': `
name: inject-http-body
match: '{alertname="Inject"}'
target: 'http-body-{{ labels.case }}'
${retry}
steps:
  - name: form-text
    action: http
    with:
      url: '${base}/form?case={{ labels.case }}'
      headers: { Content-Type: application/x-www-form-urlencoded }
      body: 'a=1&v={{ labels.x }}&end=1'
  - name: form-fields
    action: http
    with:
      url: '${base}/form-fields?case={{ labels.case }}'
      form: { a: 1, v: '{{ labels.x }}', end: '1' }
  - name: json-text
    action: http
    with:
      url: '${base}/json?case={{ labels.case }}'
      headers: { Content-Type: application/json }
      body: '{"v": "{{ labels.x }}", "n": 1}'
`,
        'inject-cwd.yaml': `
name: inject-cwd
match: '{alertname="Inject"}'
target: 'cwd-{{ labels.case }}'
${retry}
steps:
  - name: below-work
    action: exec
    with: { command: ${printCwd}, cwd: '${work}/{{ labels.x }}' }
`,
        'inject-cwd-whole.yaml': `
name: inject-cwd-whole
match: '{alertname="Inject"}'
target: 'cwd-whole-{{ labels.case }}'
${retry}
steps:
  - name: whole
    action: exec
    with: { command: ${printCwd}, cwd: '{{ labels.x }}' }
`,
        'inject-email.yaml': `
name: inject-email
match: '{alertname="Inject"}'
target: 'email-{{ labels.case }}'
${retry}
steps:
  - name: subject-and-text
    action: email
    with:
      to: oncall@example.test
      subject: 'case {{ labels.case }}: {{ labels.x }}'
      text: "value: {{ labels.x }}\\nend"
  - name: templated-recipient
    action: email
    with:
      to: 'oncall-{{ labels.x }}@example.test'
      subject: 'recipient case {{ labels.case }}'
      text: 'x'
`,
        'inject-email-whole.yaml': `
name: inject-email-whole
match: '{alertname="Inject"}'
target: 'email-whole-{{ labels.case }}'
${retry}
steps:
  - name: whole-recipient
    action: email
    with:
      to: '{{ labels.x }}'
      subject: 'whole recipient case {{ labels.case }}'
      text: 'x'
`,
      },
    });

    const alerts = cases.map((item, index) => ({
      labels: { alertname: 'Inject', case: item.name, x: item.value, secret: 's3cr3t-label' },
      fingerprint: `inject${String(index).padStart(10, '0')}`,
    }));
    const response = await postWebhook(app.url, webhookBody(alerts));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    for (const run of (response.body as { runs: { jobId: string; playbook: string; fingerprint: string }[] }).runs) {
      const item = cases[alerts.findIndex((alert) => alert.fingerprint === run.fingerprint)];
      assert.ok(item, `a run for an alert that was sent: ${run.fingerprint}`);
      const byPlaybook = runs.get(item.name) ?? new Map<string, string>();
      byPlaybook.set(run.playbook, run.jobId);
      runs.set(item.name, byPlaybook);
    }
    assert.equal(
      [...runs.values()].reduce((sum, byPlaybook) => sum + byPlaybook.size, 0),
      cases.length * 7,
      'one run per case and playbook',
    );
    await waitFor(
      'every run to end',
      async () => {
        for (const byPlaybook of runs.values()) {
          for (const jobId of byPlaybook.values()) {
            const state = await app.service.queue.getJobState(jobId);
            if (state !== 'completed' && state !== 'failed') return false;
          }
        }
        return true;
      },
      60_000,
      100,
    );
  });

  after(async () => {
    await app.close();
    await smtp.stop();
    await redis.stop();
    recorder.closeAllConnections();
    await new Promise<void>((resolve) => {
      recorder.close(() => {
        resolve();
      });
    });
    await canaries.remove();
    await workRoot.remove();
  });

  /** The ended run of `playbook` for `item`: its state, attempts and step records. */
  async function runOf(
    item: InjectionCase,
    playbook: string,
  ): Promise<{ state: string; attempts: number; steps: StepRecord[]; failedReason: string }> {
    const jobId = runs.get(item.name)?.get(playbook);
    assert.ok(jobId, `${item.name}: a ${playbook} run`);
    const job = await app.service.queue.getJob(jobId);
    assert.ok(job, `${item.name}: job ${jobId} exists`);
    const state = await job.getState();
    return { state, attempts: job.attemptsMade, steps: runDataSchema.parse(job.data).steps, failedReason: job.failedReason };
  }

  /** Asserts the run failed at `step` at once (one attempt, no retry) with a permanent error code. */
  function assertRefused(run: Awaited<ReturnType<typeof runOf>>, step: string, label: string): void {
    assert.equal(run.state, 'failed', `${label}: the run failed`);
    assert.equal(run.attempts, 1, `${label}: refused at once, not retried (${run.failedReason})`);
    const record = run.steps.find((candidate) => candidate.name === step);
    assert.equal(record?.status, 'failed', `${label}: step ${step} failed`);
    assert.ok(permanentCodes.includes(record.error?.code ?? ''), `${label}: a permanent error, got ${JSON.stringify(record.error)}`);
  }

  test('no value was ever run by a shell: none of the canary files exists', async () => {
    assert.deepEqual(await readdir(canaries.path), []);
  });

  test('exec receives every value as exactly the argv elements the playbook wrote, or refuses a NUL byte at once', async () => {
    for (const item of cases) {
      const run = await runOf(item, 'inject-exec');
      if (item.value.includes('\u0000')) {
        // The OS cannot pass a NUL inside an argument: the step is refused as invalid, not retried as if it could pass.
        assertRefused(run, 'argv', item.name);
        continue;
      }
      assert.equal(run.state, 'completed', `${item.name}: ${run.failedReason}`);
      const output = run.steps[0]?.output as { stdout: string; exitCode: number };
      assert.equal(output.exitCode, 0, item.name);
      assert.deepEqual(JSON.parse(output.stdout), [item.value, `pre-${item.value}-post`, `--flag=${item.value}`], item.name);
    }
  });

  test('http puts every value into the path percent-encoded, so the server never sees another path, and keeps the JSON body shape', async () => {
    for (const item of cases) {
      const run = await runOf(item, 'inject-http');
      const sent = requests.filter(
        (request) => request.rawUrl.startsWith('/items/') && request.rawUrl.includes(`case=${encodeURIComponent(item.name)}&`),
      );
      if (item.value === '..' || item.value === '.') {
        // Percent-encoding leaves dots alone and URL parsing would drop the segment or climb out of /items/.
        assertRefused(run, 'path-and-body', item.name);
        assert.deepEqual(sent, [], `${item.name}: nothing was sent`);
        continue;
      }
      const encoded = encodeURIComponent(item.value);
      assert.equal(sent.length, 1, `${item.name}: exactly one request for the path step`);
      const request = sent[0] as RecordedRequest;
      assert.equal(request.rawUrl, `/items/${encoded}/check?case=${encodeURIComponent(item.name)}&q=${encoded}`, item.name);
      assert.deepEqual(JSON.parse(request.body), { value: item.value, list: [item.value] }, item.name);
      assert.notEqual(run.steps[0]?.status, 'failed', item.name);
    }
    // Whatever the value, every request the server saw was for /items/<one segment>/check or /header.
    for (const request of requests)
      assert.match(request.rawUrl, /^\/(items\/[^/]+\/check|header|form|form-fields|json)\?case=/, request.rawUrl);
    assert.ok(!requests.some((request) => /(^|\/)etc\/passwd/.test(request.rawUrl)), 'no request reached an etc/passwd path');
  });

  test('http sends a value as one header value, or refuses the step at once when it carries a line break, a NUL or a non-Latin-1 character', async () => {
    for (const item of cases) {
      if (item.value === '..' || item.value === '.') continue; // the run stopped at the path step
      const run = await runOf(item, 'inject-http');
      const sent = requests.filter((request) => request.rawUrl === `/header?case=${encodeURIComponent(item.name)}`);
      for (const request of sent) {
        const names = request.rawHeaders.filter((_value, index) => index % 2 === 0).map((name) => name.toLowerCase());
        assert.ok(!names.includes('injected-header'), `${item.name}: no injected header arrived`);
      }
      // A header value is a Latin-1 byte string without CR, LF or NUL; anything else cannot be sent as it is.
      if (/[\r\n\0\u0100-\uffff]/.test(item.value)) {
        assertRefused(run, 'header', item.name);
        assert.deepEqual(sent, [], `${item.name}: nothing was sent`);
        continue;
      }
      assert.equal(run.state, 'completed', `${item.name}: ${run.failedReason}`);
      assert.equal(sent.length, 1, item.name);
      const request = sent[0] as RecordedRequest;
      const values = request.rawHeaders.filter(
        (_name, index) => index % 2 === 1 && request.rawHeaders[index - 1]?.toLowerCase() === 'x-label',
      );
      assert.deepEqual(values, [item.value], item.name);
      assert.equal(request.body, `raw ${item.value}`, item.name);
    }
  });

  test('email keeps every value in the subject on one header line and in the text as is: no header, recipient or message is added', async () => {
    for (const item of cases) {
      const run = await runOf(item, 'inject-email');
      const mails = smtp.messages.filter((mail) =>
        mailHeaders(mail).some(([name, value]) => name === 'subject' && decodeWords(value).startsWith(`case ${item.name}:`)),
      );
      assert.equal(mails.length, 1, `${item.name}: exactly one mail for the subject step`);
      const mail = mails[0] as ReceivedMail;
      const headers = mailHeaders(mail);
      for (const [name] of headers) assert.ok(mailHeaderNames.has(name), `${item.name}: unexpected header ${name}`);
      assert.equal(headers.filter(([name]) => name === 'subject').length, 1, item.name);
      const subject = decodeWords(headers.find(([name]) => name === 'subject')?.[1] ?? '');
      // Line breaks fold to one space (trailing space is not kept in a header); everything else, a NUL included, arrives whole.
      assert.equal(subject, `case ${item.name}: ${item.value.replace(/[\r\n]+/g, ' ')}`.trim(), item.name);
      assert.deepEqual(mail.to, ['oncall@example.test'], item.name);
      assert.equal(lineBreaks(mailText(mail)), lineBreaks(`value: ${item.value}\nend\n`), item.name);
      assert.equal(run.steps[0]?.status, 'succeeded', item.name);
    }
    assert.ok(!smtp.messages.some((mail) => mail.to.some((to) => to.includes('attacker'))), 'no mail went to an address a value named');
    assert.ok(
      !smtp.messages.some((mail) => mailHeaders(mail).some(([name, value]) => name === 'subject' && decodeWords(value) === 'owned')),
      'no message was smuggled after an end of DATA',
    );
  });

  test('a value inside a recipient address yields exactly that address only when made of letters, digits and . _ + -; any other fails the step at once and sends nothing', async () => {
    for (const item of cases) {
      const run = await runOf(item, 'inject-email');
      const mails = smtp.messages.filter((mail) =>
        mailHeaders(mail).some(([name, value]) => name === 'subject' && value === `recipient case ${item.name}`),
      );
      // A relay would route x%evil.example@relay or a!b@relay onward: only the safe set may come from a label.
      if (!/^[A-Za-z0-9._+-]+$/.test(item.value) || /^\.|\.$|\.\./.test(`oncall-${item.value}`)) {
        assertRefused(run, 'templated-recipient', item.name);
        assert.deepEqual(mails, [], `${item.name}: no mail went out`);
        continue;
      }
      assert.equal(run.state, 'completed', `${item.name}: ${run.failedReason}`);
      assert.equal(mails.length, 1, item.name);
      assert.deepEqual(mails[0]?.to, [`oncall-${item.value}@example.test`], item.name);
    }
    for (const name of ['percent-hack', 'bang-path']) {
      const run = await runOf(cases.find((item) => item.name === name) ?? { name: '', value: '' }, 'inject-email');
      assert.equal(run.steps[1]?.error?.code, 'REM_TEMPLATE_UNKNOWN_REFERENCE', name);
      // Narrowed by the assertion above: the step has an error.
      assert.match(run.steps[1].error.message, /cannot be inserted into an address/, name);
    }
    // The mail library reads "oncall-x@attacker.test (@example.test" as x@attacker.test plus a comment: refused too.
    const comment = await runOf(cases.find((item) => item.name === 'recipient-comment') ?? { name: '', value: '' }, 'inject-email');
    assertRefused(comment, 'templated-recipient', 'recipient-comment');
    assert.ok(!smtp.messages.some((mail) => mail.to.some((to) => /[%!]/.test(to))), 'no mail went to a relay-routed address');
  });

  test('a recipient that is one whole value must be one plain local@domain of the safe set: relay routing fails the step at once and sends nothing', async () => {
    for (const item of cases) {
      const run = await runOf(item, 'inject-email-whole');
      const mails = smtp.messages.filter((mail) =>
        mailHeaders(mail).some(([name, value]) => name === 'subject' && value === `whole recipient case ${item.name}`),
      );
      if (item.name === 'plain-address') {
        assert.equal(run.state, 'completed', `${item.name}: ${run.failedReason}`);
        assert.deepEqual(
          mails.map((mail) => mail.to),
          [[item.value]],
          item.name,
        );
        continue;
      }
      assertRefused(run, 'whole-recipient', item.name);
      assert.deepEqual(mails, [], `${item.name}: no mail went out`);
    }
    const routed = await runOf(cases.find((item) => item.name === 'routed-address') ?? { name: '', value: '' }, 'inject-email-whole');
    assert.match(routed.steps[0]?.error?.message ?? '', /cannot be used as an address/);
  });

  test('exec runs in the directory the playbook names or below it: a value can neither climb out with .. nor replace it with an absolute path', async () => {
    const inside = (dir: string, base: string) => dir === base || dir.startsWith(`${base}${sep}`);
    const repository = await realpath(process.cwd());
    for (const item of cases) {
      const below = await runOf(item, 'inject-cwd');
      if (below.state === 'completed') {
        const cwd = (below.steps[0]?.output as { stdout: string }).stdout;
        assert.ok(inside(await realpath(cwd), work), `${item.name}: ran in ${cwd}, outside ${work}`);
      } else assertRefused(below, 'below-work', item.name);
      // A relative whole value is relative to remediator's own directory; an absolute one or .. is refused.
      const whole = await runOf(item, 'inject-cwd-whole');
      if (whole.state === 'completed') {
        const cwd = (whole.steps[0]?.output as { stdout: string }).stdout;
        assert.ok(inside(await realpath(cwd), repository), `${item.name}: ran in ${cwd}, outside ${repository}`);
      } else assertRefused(whole, 'whole', item.name);
    }
    const ran = async (name: string, playbook: string) =>
      (await runOf(cases.find((item) => item.name === name) ?? { name, value: '' }, playbook)).steps[0];
    assert.equal(
      ((await ran('plain', 'inject-cwd'))?.output as { stdout?: string } | undefined)?.stdout,
      join(work, 'sub'),
      'a plain value names a directory below',
    );
    for (const name of ['dot-dot-segment', 'path-traversal', 'climb-out']) {
      assert.match((await ran(name, 'inject-cwd'))?.error?.message ?? '', /"\.\." segment/, name);
    }
    assert.match((await ran('absolute-path', 'inject-cwd-whole'))?.error?.message ?? '', /absolute/);
  });

  test('a form body written as text gets each value form-encoded, and form: sends the fields given: the receiver parses exactly the fields the playbook wrote', async () => {
    for (const item of cases) {
      const run = await runOf(item, 'inject-http-body');
      assert.equal(run.state, 'completed', `${item.name}: ${run.failedReason}`);
      for (const path of ['/form', '/form-fields']) {
        const sent = requests.filter((request) => request.rawUrl === `${path}?case=${encodeURIComponent(item.name)}`);
        assert.equal(sent.length, 1, `${item.name}: one request to ${path}`);
        const request = sent[0] as RecordedRequest;
        const contentType = request.rawHeaders.find((_value, index) => request.rawHeaders[index - 1]?.toLowerCase() === 'content-type');
        assert.equal(contentType, 'application/x-www-form-urlencoded', `${item.name} ${path}`);
        assert.deepEqual(
          [...new URLSearchParams(request.body)],
          [
            ['a', '1'],
            ['v', item.value],
            ['end', '1'],
          ],
          `${item.name} ${path}`,
        );
      }
    }
  });

  test('a JSON body written as text gets each value JSON-escaped: the receiver parses exactly the keys the playbook wrote', () => {
    for (const item of cases) {
      const sent = requests.filter((request) => request.rawUrl === `/json?case=${encodeURIComponent(item.name)}`);
      assert.equal(sent.length, 1, `${item.name}: one request`);
      assert.deepEqual(JSON.parse((sent[0] as RecordedRequest).body), { v: item.value, n: 1 }, item.name);
    }
  });

  test('a value that looks like a template reference is never rendered a second time', async () => {
    const item = cases.find((candidate) => candidate.name === 'template-in-value');
    assert.ok(item);
    const exec = await runOf(item, 'inject-exec');
    assert.ok(!JSON.stringify(exec.steps).includes('s3cr3t-label'), 'the other label did not leak in through the value');
    assert.ok(!requests.some((request) => request.rawUrl.includes('s3cr3t-label') || request.body.includes('s3cr3t-label')));
    assert.ok(!smtp.messages.some((mail) => mail.raw.includes('s3cr3t-label')));
  });
});
