import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runRemediator } from '../helpers/remediator-process.js';
import { cleanProject, lineOf, writeProject } from './lint-fixture.js';

/** Runs `remediator lint <args>` from the checkout; stdout and stderr interleaved. */
async function lintCommand(args: string[]): Promise<{ code: number | null; output: string }> {
  const run = runRemediator(['lint', ...args], {});
  const { code } = await run.exited;
  return { code, output: run.output() };
}

describe('remediator lint (the command)', () => {
  test('the shipped project lints clean: exit 0 and the one-line summary', async () => {
    const { code, output } = await lintCommand(['.']);
    assert.equal(code, 0, output);
    assert.match(output, /^lint: \d+ rules, \d+ playbooks, \d+ dashboards?, \d+ expressions OK\n$/);
  });

  test('a clean fixture exits 0; a broken one exits 1 with every problem as file:line: message, sorted', async (t) => {
    const clean = await writeProject();
    t.after(() => clean.remove());
    const ok = await lintCommand([clean.dir]);
    assert.equal(ok.code, 0, ok.output);
    assert.equal(ok.output, 'lint: 3 rules, 2 playbooks, 1 dashboard, 14 expressions OK\n');

    const rules = `${cleanProject['rules/app.rules.yml'] ?? ''}      - alert: AllDown
        expr: count(remediator_member_up == 1) < 1
`;
    const broken = await writeProject({ 'rules/app.rules.yml': rules });
    t.after(() => broken.remove());
    const failed = await lintCommand([broken.dir]);
    assert.equal(failed.code, 1, failed.output);
    const file = join(broken.dir, 'rules/app.rules.yml');
    const lines = failed.output.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => line.replace(/: .*$/s, '')),
      [`${file}:${lineOf(rules, 'alert: AllDown')}`, `${file}:${lineOf(rules, 'count(remediator_member_up == 1)')}`, 'lint'],
    );
    assert.match(lines[0] ?? '', /alert AllDown: no playbook in remediations\/ matches \{alertname="AllDown"\}/);
    assert.match(lines[1] ?? '', /alert AllDown: all-down pitfall: "count\(remediator_member_up == 1\) < 1"/);
    assert.equal(lines[2], 'lint: 2 problems');
  });

  test('a directory that does not exist is an error', async () => {
    const { code, output } = await lintCommand(['/nonexistent-remediator-project']);
    assert.equal(code, 1);
    assert.match(output, /remediator: \/nonexistent-remediator-project is not a directory/);
  });
});
