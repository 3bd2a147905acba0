import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { rawRequest } from '../helpers/raw-request.js';
import { withTestService } from '../helpers/service-suite.js';
import { basicAuth, usersOf } from '../helpers/users.js';

const guesses = 1000;

describe('a password guesser on one address is refused and slowed, while everyone else logs in as usual', async () => {
  // The real clock and a USERS_FILE user (scrypt): the service as it runs.
  const users = await usersOf([{ name: 'ana', password: 'the-right-one', role: 'operator' }]);
  const suite = withTestService({ playbooks: { 'note-down.yaml': noteDownPlaybook }, settings: { users, worker: false } });
  const get = (authorization: string, from: string) =>
    rawRequest(`${suite.app().url}/api/runs`, { headers: { authorization }, localAddress: from });
  const failures = async (): Promise<Partial<Record<string, number>>> => {
    const text = await suite.app().service.metrics.registry.metrics();
    const counts = [...text.matchAll(/^remediator_admin_auth_failures_total\{reason="(\w+)"\} (\d+)$/gm)];
    return Object.fromEntries(counts.map(([, reason = '', count]) => [reason, Number(count)]));
  };

  test('1,000 wrong passwords in a row from one client are all refused and counted; the right one from another client works at once', async (t) => {
    const statuses = new Map<number, number>();
    const started = performance.now();
    for (let attempt = 0; attempt < guesses; attempt++) {
      const answer = await get(basicAuth('ana', `guess-${attempt}`), '127.0.0.1');
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    const seconds = (performance.now() - started) / 1000;
    // Reported, not asserted: how long the guesser's 1,000 tries took.
    t.diagnostic(`1,000 wrong passwords answered in ${seconds.toFixed(2)} s: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.deepEqual([...statuses.keys()].sort(), [401, 429], 'every guess is refused: checked and wrong, or not even checked');
    assert.ok((statuses.get(429) ?? 0) > (statuses.get(401) ?? 0), 'most guesses are not even checked');

    const other = await get(basicAuth('ana', 'the-right-one'), '127.0.0.2');
    assert.equal(other.status, 200, other.text);

    const counted = await failures();
    assert.equal((counted.invalid ?? 0) + (counted.throttled ?? 0), guesses, JSON.stringify(counted));
    assert.equal(counted.invalid, statuses.get(401));

    const lines = suite.app().logs.filter((line) => line.msg === 'admin login failed');
    assert.ok(lines.length >= 1 && lines.length <= 1 + Math.ceil(seconds / 10), `${lines.length} log lines in ${seconds} s`);
    assert.ok(!suite.app().rawLogs().includes('guess-'), 'no password is logged');
  });

  test('wrong passwords sent all at once from one client are checked one at a time, so the backoff stops all but five', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, attempt) => get(basicAuth('ana', `parallel-${attempt}`), '127.0.0.3')),
    );
    const statuses = answers.map((answer) => answer.status);
    assert.deepEqual(
      { 401: statuses.filter((status) => status === 401).length, 429: statuses.filter((status) => status === 429).length },
      { 401: 5, 429: 45 },
    );
  });

  test("a browser's requests sent all at once with the right password are all let in", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(basicAuth('ana', 'the-right-one'), '127.0.0.4')));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      Array<number>(20).fill(200),
    );
  });
});
