import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { loadPlaybooks, parsePlaybookSources, type LoadPlaybooksResult } from '../../src/playbooks/load-playbooks.js';
import { formatProblem, type SourceProblem } from '../../src/sources/index.js';
import type { Playbook } from '../../src/core/playbook.js';
import { tempDir } from '../helpers/temp-dir.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'x@y', prometheusUrl: undefined, path: process.env.PATH });

/** Writes `files` (relative path → text) into a fresh temp dir and loads it, with paths shown relative to it. */
async function loadFiles(files: Record<string, string>): Promise<LoadPlaybooksResult> {
  const dir = await tempDir('remediator-load-test-');
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir.path, name);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, text);
    }
    return await loadPlaybooks(dir.path, actions, dir.path);
  } finally {
    await dir.remove();
  }
}

function parseOne(text: string, file = 'playbook.yaml'): LoadPlaybooksResult {
  return parsePlaybookSources([{ file, text }], actions);
}

function playbooksOf(result: LoadPlaybooksResult): Playbook[] {
  if (!result.success) assert.fail(`expected success, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.playbooks;
}

function problemsOf(result: LoadPlaybooksResult): SourceProblem[] {
  if (result.success) assert.fail(`expected problems, got playbooks ${result.playbooks.map((playbook) => playbook.name).join(', ')}`);
  return result.problems;
}

/** The one problem of `result`, failing the test when there are none or several. */
function onlyProblem(result: LoadPlaybooksResult): SourceProblem {
  const problems = problemsOf(result);
  const [problem] = problems;
  assert.ok(problem && problems.length === 1, `expected one problem, got:\n${problems.map(formatProblem).join('\n')}`);
  return problem;
}

const validPlaybook = (name: string) => `name: ${name}
match: '{alertname="InstanceDown"}'
steps:
  - name: note
    action: log
    with:
      message: 'down: {{ labels.instance }}'
`;

describe('loadPlaybooks', () => {
  test("the repository's own remediations directory loads every playbook cleanly", async () => {
    const dir = join(repoRoot, 'remediations');
    const files = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name) && !/^inventory\.ya?ml$/.test(name));
    const playbooks = playbooksOf(await loadPlaybooks(dir, actions, repoRoot));
    assert.equal(playbooks.length, files.length);
    assert.ok(playbooks.length >= 1);
    assert.deepEqual(playbooks.map((playbook) => playbook.file).sort(), files.map((name) => join('remediations', name)).sort());
  });

  test('a file with many problems reports all of them at once, each with file, line and path', async () => {
    const text = `name: broken
match: '{alertname=~"prim(ary"}'
taget: '{{ labels.instance }}'
steps:
  - name: notify
    action: log
    with:
      message: 'down: {{ labels.instance }}'
  - name: restart
    action: exec
    with:
      command: ['{{ labels.bin }}', '--now']
      shell: true
  - name: call-api
    action: http
    with:
      url: 'ftp://hooks.example.com/{{ labels.instance }}'
  - name: verify
    action: promql.wait
    with:
      query: 'up{instance="{{ labels.instance }}"} =='
  - name: reboot
    action: reboot-host
    with: {}
  - name: note
    action: log
    with:
      message: '{{ lables.instance }} is down'
`;
    const problems = problemsOf(await loadFiles({ 'broken.yaml': text }));
    const expected: [number, string, RegExp][] = [
      [2, 'match', /invalid regex "prim\(ary"/],
      [3, 'taget', /unknown key "taget"/],
      [12, 'steps[1].with.command[0]', /program must not be templated/],
      [13, 'steps[1].with.shell', /unknown key "shell" for exec/],
      [17, 'steps[2].with.url', /http\(s\) URL/],
      [21, 'steps[3].with.query', /^PromQL .*offset 29/],
      [
        23,
        'steps[4].action',
        new RegExp(`unknown action "reboot-host" \\(known: ${[...actions.keys()].sort().join(', ').replaceAll('.', '\\.')}\\)`),
      ],
      [28, 'steps[5].with.message', /unknown reference "\{\{ lables\.instance \}\}"/],
    ];
    assert.deepEqual(
      problems.map((problem) => `${String(problem.line)} ${problem.path}`),
      expected.map(([line, path]) => `${line} ${path}`),
      problems.map(formatProblem).join('\n'),
    );
    for (const [index, [, , message]] of expected.entries()) {
      const problem = problems[index];
      assert.equal(problem?.file, 'broken.yaml');
      assert.match(problem.message, message);
    }
  });

  test('a YAML syntax error is reported with its line', async () => {
    const problems = problemsOf(await loadFiles({ 'bad.yaml': 'name: bad\nmatch: "{a=\\"b\\"}"\nsteps: [\n  - oops\n' }));
    assert.ok(problems.length > 0);
    for (const problem of problems) {
      assert.equal(problem.file, 'bad.yaml');
      assert.ok(problem.line !== undefined && problem.line >= 3, formatProblem(problem));
    }
  });

  test('a duplicate key in YAML is an error on its line', () => {
    const problem = onlyProblem(parseOne('name: a\nname: b\nmatch: x\nsteps: []\n'));
    assert.equal(problem.line, 2);
    assert.match(problem.message, /unique/);
  });

  test('two files defining the same playbook name are an error naming the first file', async () => {
    const problem = onlyProblem(await loadFiles({ 'a.yaml': validPlaybook('same-name'), 'b.yaml': validPlaybook('same-name') }));
    assert.deepEqual({ file: problem.file, path: problem.path, line: problem.line }, { file: 'b.yaml', path: 'name', line: 1 });
    assert.match(problem.message, /"same-name" is already defined in a\.yaml/);
  });

  test('a step name used twice is an error at the second step', () => {
    const problem = onlyProblem(
      parseOne(`name: twice
match: x
steps:
  - name: note
    action: log
    with: { message: one }
  - name: note
    action: log
    with: { message: two }
`),
    );
    assert.equal(problem.path, 'steps[1].name');
    assert.equal(problem.line, 7);
    assert.match(problem.message, /step name "note" is used twice/);
  });

  test('a playbook without steps is an error', () => {
    const problems = problemsOf(parseOne('name: empty\nmatch: x\nsteps: []\n'));
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.line, problem.message]),
      [['steps', 3, 'a playbook needs at least one step']],
    );
  });

  test('two YAML documents in one file are an error', () => {
    const problem = onlyProblem(parseOne(`${validPlaybook('first')}---\n${validPlaybook('second')}`));
    assert.match(problem.message, /one playbook per file/);
  });

  test('an empty file is an error', () => {
    assert.match(
      problemsOf(parseOne(''))
        .map((problem) => problem.message)
        .join('\n'),
      /empty file/,
    );
  });

  test('inventory.yaml, other file types and sub-folders such as examples/ are not loaded', async () => {
    const playbooks = playbooksOf(
      await loadFiles({
        'notify.yaml': validPlaybook('notify'),
        'other.yml': validPlaybook('other'),
        'inventory.yaml': 'hosts: [stream-1, stream-2]\n',
        'inventory.yml': 'hosts: [stream-3]\n',
        'README.md': '# not a playbook\n',
        'examples/broken.yaml': 'this: [is not a playbook\n',
        'examples/notify.yaml': validPlaybook('notify'),
      }),
    );
    assert.deepEqual(
      playbooks.map((playbook) => playbook.name),
      ['notify', 'other'],
    );
  });

  test('an empty directory is an error, and so is a missing one', async () => {
    assert.match(
      problemsOf(await loadFiles({}))
        .map(formatProblem)
        .join('\n'),
      /no playbooks found/,
    );
    const missing = problemsOf(await loadPlaybooks(join(repoRoot, 'test', 'no-such-dir'), actions));
    assert.match(missing[0]?.message ?? '', /cannot read the playbook directory \(ENOENT\)/);
  });

  test('unset fields take their defaults, and a step timeout defaults to its action', () => {
    const [playbook] = playbooksOf(
      parseOne(`name: minimal
match: '{alertname="InstanceDown"}'
steps:
  - name: note
    action: log
    with: { message: hi }
  - name: wait
    action: promql.wait
    with: { query: 'up == 0' }
  - name: call
    action: http
    with: { url: 'https://hooks.example.com/x' }
  - name: slow
    action: log
    timeout: 90s
    with: { message: x }
`),
    );
    assert.ok(playbook);
    assert.equal(playbook.on, 'firing');
    assert.equal(playbook.target, '{{ alert.fingerprint }}');
    assert.deepEqual(playbook.retry, { attempts: 3, backoffMs: 5000 });
    assert.deepEqual(
      playbook.steps.map((step) => step.timeoutMs),
      [5000, 600_000, 30_000, 90_000],
    );
    assert.equal(playbook.description, undefined);
    assert.deepEqual(playbook.matchers, [{ name: 'alertname', op: '=', value: 'InstanceDown' }]);
  });

  test('written values override the defaults', () => {
    const [playbook] = playbooksOf(
      parseOne(`name: custom
description: a custom one
match: '{alertname="InstanceDown"}'
on: resolved
target: '{{ labels.instance }}'
retry: { attempts: 5, backoff: 1m }
steps:
  - name: note
    action: log
    with: { message: hi }
`),
    );
    assert.ok(playbook);
    assert.equal(playbook.description, 'a custom one');
    assert.equal(playbook.on, 'resolved');
    assert.equal(playbook.target, '{{ labels.instance }}');
    assert.deepEqual(playbook.retry, { attempts: 5, backoffMs: 60_000 });
  });

  test('a URL that is one whole template is accepted at load time', () => {
    const [playbook] = playbooksOf(
      parseOne(`name: hook
match: x
steps:
  - name: call
    action: http
    with:
      url: '{{ annotations.hook }}'
`),
    );
    assert.equal(playbook?.steps[0]?.with.url, '{{ annotations.hook }}');
  });

  test('filters are understood wherever templates are checked: a whole field, a guard query with braces and quotes in a default', () => {
    const [playbook] = playbooksOf(
      parseOne(`name: filters
match: x
target: '{{ labels.instance | host }}'
guards:
  - name: up
    query: 'up{instance="{{ labels.instance | default("a}b\\"c") }}"} == {{ labels.want | default("1") }}'
steps:
  - name: call
    action: http
    with:
      url: '{{ annotations.hook | default("http://127.0.0.1:1/hook") }}'
  - name: restart
    action: exec
    with:
      command: [ssh, --, '{{ labels.instance | host }}', restart]
`),
    );
    assert.deepEqual([playbook?.target, playbook?.guards.length, playbook?.steps.length], ['{{ labels.instance | host }}', 1, 2]);
  });

  test('an unknown filter or a default left unclosed is reported on its field', () => {
    const problems = problemsOf(
      parseOne(`name: filters
match: x
steps:
  - name: note
    action: log
    with:
      message: '{{ labels.instance | upper }}'
  - name: other
    action: log
    with:
      message: '{{ labels.instance | default("oops) }}'
`),
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['steps[0].with.message', 'steps[1].with.message'],
    );
    assert.match(problems[0]?.message ?? '', /unknown filter "upper"/);
    assert.match(problems[1]?.message ?? '', /no closing \}\}/);
  });

  test('an http step with a templated string body and no Content-Type, or a templated secret file, is refused at load time', () => {
    const problems = problemsOf(
      parseOne(`name: bodies
match: x
steps:
  - name: call
    action: http
    with:
      url: http://127.0.0.1:1/x
      body: 'a=1&v={{ labels.x }}'
      secretHeaders: { X-Key: { file: '/etc/keys/{{ labels.team }}' } }
`),
    );
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.line]),
      [
        ['steps[0].with.body', 8],
        ['steps[0].with.secretHeaders.X-Key.file', 9],
      ],
    );
  });

  test('a templated number field is rejected, since templates render strings', () => {
    const problem = onlyProblem(
      parseOne(`name: numbers
match: x
steps:
  - name: run
    action: exec
    with:
      command: [echo, hi]
      maxOutputBytes: '{{ labels.x }}'
`),
    );
    assert.equal(problem.path, 'steps[0].with.maxOutputBytes');
    assert.equal(problem.line, 8);
    assert.match(problem.message, /expected number/);
  });

  test('a templated target with an unknown reference is reported on target', () => {
    const problems = problemsOf(
      parseOne(`name: targets
match: x
target: '{{ label.instance }}'
steps:
  - name: note
    action: log
    with: { message: hi }
`),
    );
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.line]),
      [['target', 3]],
    );
  });

  test('a step timeout that is not a duration gets a message saying how to write one', () => {
    const problem = onlyProblem(
      parseOne(`name: timeouts
match: x
steps:
  - name: note
    action: log
    timeout: 5 minutes
    with: { message: hi }
`),
    );
    assert.equal(problem.path, 'steps[0].timeout');
    assert.match(problem.message, /"5 minutes" is not a duration \(use e\.g\. 500ms, 30s/);
  });

  test('a playbook name that is not a slug is rejected', () => {
    const problems = problemsOf(parseOne(validPlaybook('Not_A_Slug')));
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.line]),
      [['name', 1]],
    );
  });
});

describe('loadPlaybooks: guards, budgets, approval, dry-run mode and skipped: steps', () => {
  const gated = `name: gated
match: '{alertname="InstanceDown"}'
target: '{{ labels.cluster }}'
mode: dry-run
guards:
  - name: replica-fresh
    query: 'min(remediator_replication_lag_bytes{cluster="{{ labels.cluster }}"}) < 1048576'
  - name: not-all-down
    query: 'max(remediator_member_up{cluster="{{ labels.cluster }}"}) == 0'
    expect: 'false'
    onError: proceed
budget: { cooldown: 5m, maxRuns: 2, window: 1h }
approval: { timeout: 10m, onTimeout: proceed, notify: [{ name: ask, action: log, with: { message: 'approve {{ run.id }}' } }] }
steps:
  - { name: note, action: log, with: { message: 'down' } }
skipped:
  steps:
    - { name: tell, action: log, with: { message: 'skipped {{ run.target }}' } }
`;

  test('a playbook with every safety control loads them with defaults filled in', () => {
    const [playbook] = playbooksOf(parseOne(gated));
    assert.ok(playbook);
    assert.equal(playbook.mode, 'dry-run');
    assert.deepEqual(
      playbook.guards.map((guard) => [guard.name, guard.expect, guard.onError]),
      [
        ['replica-fresh', 'true', 'skip'],
        ['not-all-down', 'false', 'proceed'],
      ],
    );
    assert.deepEqual(playbook.budget, { cooldownMs: 300_000, maxRuns: 2, windowMs: 3_600_000 });
    assert.equal(playbook.approval?.timeoutMs, 600_000);
    assert.equal(playbook.approval.onTimeout, 'proceed');
    assert.deepEqual(
      playbook.approval.notify.map((step) => step.name),
      ['ask'],
    );
    assert.deepEqual(
      playbook.skipped?.map((step) => step.name),
      ['tell'],
    );
  });

  test('without those sections a playbook is live, unguarded, unbudgeted and needs no approval; approval required: false is none', () => {
    const [plain] = playbooksOf(parseOne(validPlaybook('plain')));
    assert.deepEqual(
      [plain?.mode, plain?.guards, plain?.budget, plain?.approval, plain?.skipped],
      ['live', [], undefined, undefined, undefined],
    );
    const [off] = playbooksOf(parseOne(`${validPlaybook('off')}approval: { required: false }\n`));
    assert.equal(off?.approval, undefined);
  });

  test('a PromQL syntax error in a guard, a bad reference, a bad mode and a bad budget are each reported with line and path', () => {
    const broken = gated
      .replace('mode: dry-run', 'mode: maybe')
      .replace("< 1048576'", "< '")
      .replace('{{ run.target }}', '{{ run.nope }}')
      .replace('cooldown: 5m', 'cooldown: soon')
      .replace("query: 'max(", "query: 'max({{ labels.cluster | upper }}) + max(");
    const problems = problemsOf(parseOne(broken, 'gated.yaml'));
    const byPath = new Map(problems.map((problem) => [problem.path, problem]));
    assert.match(byPath.get('mode')?.message ?? '', /live|dry-run/);
    assert.equal(byPath.get('mode')?.line, 4);
    assert.match(byPath.get('guards[0].query')?.message ?? '', /PromQL/);
    assert.equal(byPath.get('guards[0].query')?.line, 7);
    assert.match(byPath.get('guards[1].query')?.message ?? '', /unknown filter "upper"/);
    assert.match(byPath.get('budget.cooldown')?.message ?? '', /not a duration/);
    assert.match(byPath.get('skipped.steps[0].with.message')?.message ?? '', /run has/);
  });

  test('{{ run.skipReason }} is refused outside skipped: steps, where it could never have a value', () => {
    const problem = onlyProblem(parseOne(gated.replace("message: 'down'", "message: 'down: {{ run.skipReason }}'")));
    assert.deepEqual([problem.path, problem.message], ['steps[0].with.message', '{{ run.skipReason }} is only set in skipped: steps']);
  });

  test('{{ approval.approveUrl }} loads in an approval notify: step of a playbook naming approval.linkUser, who is kept', () => {
    const [playbook] = playbooksOf(
      parseOne(
        gated
          .replace('onTimeout: proceed,', 'onTimeout: proceed, linkUser: alice,')
          .replace("'approve {{ run.id }}'", "'approve {{ approval.approveUrl }} or {{ approval.rejectUrl }}'"),
      ),
    );
    assert.equal(playbook?.approval?.linkUser, 'alice');
  });

  test('{{ approval.* }} is refused without approval.linkUser, outside approval.notify:, and for a field links do not have', () => {
    const withoutUser = onlyProblem(parseOne(gated.replace("'approve {{ run.id }}'", "'approve {{ approval.approveUrl }}'")));
    assert.deepEqual(
      [withoutUser.path, withoutUser.message],
      ['approval.notify[0].with.message', '{{ approval.* }} needs approval.linkUser: the person the links are issued to'],
    );
    const withUser = gated.replace('onTimeout: proceed,', 'onTimeout: proceed, linkUser: alice,');
    const inSteps = onlyProblem(parseOne(withUser.replace("message: 'down'", "message: '{{ approval.rejectUrl }}'")));
    assert.deepEqual(
      [inSteps.path, inSteps.message],
      ['steps[0].with.message', '{{ approval.* }} (the approval links) is only set in approval.notify: steps'],
    );
    const unknown = problemsOf(parseOne(withUser.replace("'approve {{ run.id }}'", "'{{ approval.token }}'")));
    assert.match(unknown[0]?.message ?? '', /approval has approveUrl, rejectUrl, linkUser, linkExpiresAt/);
  });

  test('step names are unique within skipped: and approval.notify as in steps:', () => {
    const problems = problemsOf(
      parseOne(
        gated.replace(
          "- { name: tell, action: log, with: { message: 'skipped {{ run.target }}' } }",
          "- { name: tell, action: log, with: { message: 'a' } }\n    - { name: tell, action: log, with: { message: 'b' } }",
        ),
      ),
    );
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ['skipped.steps[1].name'],
    );
  });
});
