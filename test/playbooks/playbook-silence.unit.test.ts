import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { parsePlaybookSources, type LoadPlaybooksResult, type PlaybookLoadOptions } from '../../src/playbooks/load-playbooks.js';
import { formatProblem } from '../../src/sources/index.js';

const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'x@y', prometheusUrl: undefined, path: process.env.PATH });

const playbook = (silence: string) => `name: failover
match: '{alertname="PrimaryDown"}'
target: '{{ labels.cluster }}'
${silence}
steps:
  - name: note
    action: log
    with: { message: hi }
`;

const load = (text: string, options: PlaybookLoadOptions = { alertmanagerConfigured: true }): LoadPlaybooksResult =>
  parsePlaybookSources([{ file: 'failover.yaml', text }], actions, options);

const problems = (result: LoadPlaybooksResult): string[] => (result.success ? [] : result.problems.map(formatProblem));

describe('a playbook with silence:', () => {
  test('loads its matchers and duration into the playbook', () => {
    const result = load(
      playbook(`silence:
  matchers: '{alertname=~"InstanceDown|PrimaryUnreachable", cluster="{{ labels.cluster }}"}'
  duration: 10m`),
    );
    if (!result.success) assert.fail(problems(result).join('\n'));
    const silence = result.playbooks[0]?.silence;
    assert.ok(silence);
    assert.equal(silence.durationMs, 600_000);
    assert.deepEqual(
      silence.matchers.map((matcher) => matcher.name),
      ['alertname', 'cluster'],
    );
  });

  test('the duration defaults to ten minutes', () => {
    const result = load(playbook(`silence: { matchers: '{alertname="PrimaryDown"}' }`));
    assert.equal(result.success && result.playbooks[0]?.silence?.durationMs, 600_000);
  });

  test('malformed matchers are a problem at silence.matchers, with the file and line', () => {
    assert.deepEqual(problems(load(playbook(`silence: { matchers: '{alertname=~".*"}' }`))), [
      'failover.yaml:4: silence.matchers: at least one matcher must not match the empty string (Alertmanager refuses such a silence)',
    ]);
    assert.match(
      problems(load(playbook(`silence: { matchers: '{cluster={{ labels.cluster }}}' }`))).join(),
      /failover\.yaml:4: silence\.matchers: /,
    );
  });

  test('an unknown key or a too short duration is a problem', () => {
    assert.match(problems(load(playbook(`silence: { matchers: '{alertname="A"}', for: 1m }`))).join(), /silence\.for: unknown key/);
    assert.match(
      problems(load(playbook(`silence: { matchers: '{alertname="A"}', duration: 10ms }`))).join(),
      /silence\.duration: must be at least 1s/,
    );
  });

  test('without ALERTMANAGER_URL the playbook is a start-up problem that names the file and the key', () => {
    assert.deepEqual(problems(load(playbook(`silence: { matchers: '{alertname="A"}' }`), { alertmanagerConfigured: false })), [
      'failover.yaml:4: silence: needs ALERTMANAGER_URL (the Alertmanagers to silence in); set it, or remove silence:',
    ]);
    assert.ok(load(playbook(''), { alertmanagerConfigured: false }).success, 'a playbook without silence: needs no Alertmanager');
  });
});
