import assert from 'node:assert/strict';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { runRemediator } from '../helpers/remediator-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { repoRoot } from '../../tools/harness/repo-root.js';
import { runPlaybookTests } from '../../tools/playbook-tests/test-command.js';

/** Runs the command in this process (for what starts no server): its exit code and its output, stdout then stderr. */
async function runInProcess(files: string[]): Promise<{ code: number; output: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stream = (into: string[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk.toString());
        done();
      },
    });
  const code = await runPlaybookTests(files, { cwd: repoRoot, stdout: stream(out), stderr: stream(err) });
  return { code, output: [...out, ...err].join('') };
}

/** Runs `remediator test <args>` from the checkout; stdout and stderr interleaved. */
async function testCommand(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const run = runRemediator(['test', ...args], env);
  const { code } = await run.exited;
  return { code, output: run.output() };
}

const shipped = join(repoRoot, 'remediations', 'tests');

describe('remediator test (the command)', () => {
  test('the shipped playbooks pass their tests: every file under remediations/tests, exit 0', async () => {
    const files = (await readdir(shipped)).filter((name) => name.endsWith('.yaml')).map((name) => join('remediations/tests', name));
    assert.ok(files.length >= 3, files.join(', '));
    const { code, output } = await testCommand(['remediations/tests']);
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /FAILED/);
    assert.match(output, /^\d+ tests, 0 failed$/m);
    for (const file of files) assert.match(output, new RegExp(`^${file}$`, 'm'));
  });

  test("a guard's expected outcome changed makes the test fail: exit 1, and the diff names the test, the alert, the guard, what was expected and what it got", async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const text = await readFile(join(shipped, 'redis-primary-failover.yaml'), 'utf8');
    const changed = `playbooks: ${JSON.stringify(join(repoRoot, 'remediations'))}\n${text.replace(
      'guards: { a-replica-is-up: passed, no-primary-is-up: failed }',
      'guards: { a-replica-is-up: passed, no-primary-is-up: passed }',
    )}`;
    assert.notEqual(changed.length, text.length);
    await writeFile(join(dir.path, 'changed.yaml'), changed);
    const { code, output } = await testCommand([join(dir.path, 'changed.yaml')]);
    assert.equal(code, 1, output);
    const failure = output.slice(output.indexOf('FAILED'));
    assert.match(failure, /^FAILED {2}an alert while the primary still answers is stale, and the no-primary-is-up guard skips the run\n/);
    assert.match(failure, /input 0 at 2m, alert 0 PrimaryUnreachable\{cluster="cache",instance="cache-a",service="redis"\}:\n/);
    assert.match(
      failure,
      / {12}playbook redis-primary-failover:\n {14}guards\.no-primary-is-up:\n {16}expected: passed\n {16}got: {6}failed \(max\(remediator_member_up\{cluster="cache", role="primary"\}\) == 1 returned \[\{"metric":\{\},"value":"1"\}\]\)\n/,
    );
    assert.match(output, /^5 tests, 1 failed$/m);
    assert.equal(output.match(/FAILED/g)?.length, 1, 'the other tests of the file still pass');
  });

  test('test files with mistakes run nothing: exit 1 with every problem of every file as file:line: path: message', async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const playbooks = `playbooks: ${JSON.stringify(join(repoRoot, 'remediations'))}\n`;
    const schema = join(dir.path, 'schema.yaml');
    await writeFile(
      schema,
      `${playbooks}tests:
  - name: typos
    inputs:
      - at: 1 minute
        alerts: [{ labels: { alertname: Down } }]
        expect:
          - runs: [{ playbook: instance-down-notify, outcome: would-run, outcom: skipped }]
`,
    );
    const meaning = join(dir.path, 'meaning.yaml');
    await writeFile(
      meaning,
      `${playbooks}tests:
  - name: wrong values
    input_series:
      - { series: 'up{job=~"a"}', values: '1 x' }
    inputs:
      - at: 1m
        alerts: [{ labels: { alertname: Down } }]
        expect:
          - alert: 1
            runs: []
          - runs: [{ playbook: no-such-playbook, outcome: would-run }]
`,
    );
    // The directory stands for its files, in name order.
    const { code, output } = await runInProcess([dir.path]);
    assert.equal(code, 1, output);
    assert.deepEqual(output.trimEnd().split('\n'), [
      'remediator: 6 problems in the playbook tests; no test ran:',
      `  ${meaning}:5: tests[0].input_series[0].series: "up{job=~"a"}": a series has labels (name="value"), not matchers like =~`,
      `  ${meaning}:5: tests[0].input_series[0].values: "x" is not a value (1, 1+2x3, 0x5, _, _x2 or stale)`,
      `  ${meaning}:10: tests[0].inputs[0].expect[0].alert: the input has 1 alert(s)`,
      `  ${meaning}:12: tests[0].inputs[0].expect[1].runs[0].playbook: no playbook no-such-playbook in remediations`,
      `  ${schema}:5: tests[0].inputs[0].at: "1 minute" is not a time from the test's start (use e.g. 0s, 90s, 2m30s, -10m)`,
      `  ${schema}:8: tests[0].inputs[0].expect[0].runs[0].outcom: unknown key "outcom"`,
    ]);
  });

  test('without files it is a usage error (exit 2), and without promtool it says so by name (exit 1)', async (t) => {
    const none = await runInProcess([]);
    assert.equal(none.code, 2, none.output);
    assert.match(none.output, /give the playbook test files to run/);
    const empty = await tempDir();
    t.after(() => empty.remove());
    const nothing = await runInProcess([empty.path]);
    assert.equal(nothing.code, 1, nothing.output);
    assert.match(nothing.output, /no test files \(\*\.yaml\) there/);
    // A PATH holding node alone: the CLI starts, the servers' programs are not found.
    const bin = await tempDir();
    t.after(() => bin.remove());
    await symlink(process.execPath, join(bin.path, 'node'));
    const missing = await testCommand([join('remediations/tests/redis-primary-failover.yaml')], { PATH: bin.path });
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, /remediator test: promtool is not on PATH: install Prometheus's tools/);
    assert.match(missing.output, /remediator test: redis-server is not on PATH/);
  });
});
