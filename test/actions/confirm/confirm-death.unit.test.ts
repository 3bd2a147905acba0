import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { confirmDeath, type DeathObserver } from '../../../src/actions/confirm/confirm-death.js';
import { RunSkip } from '../../../src/core/action.js';

const logger = pino({ level: 'silent' });
const params = { probes: 3, window: 200, quorum: 'majority' as const, probeTimeout: 50 };

/**
 * An observer whose primary answers from the `answersFrom`-th probe on (never when undefined), otherwise times out
 * or, with `refused`, refuses the connection; its replica always lost it, for `linkDownMs` by its own account.
 */
function observer(answersFrom?: number, options: { refused?: boolean; linkDownMs?: number } = {}): DeathObserver & { probes: number[] } {
  const probes: number[] = [];
  return {
    primary: 'cache-a',
    probes,
    probePrimary() {
      probes.push(Date.now());
      const answered = answersFrom !== undefined && probes.length >= answersFrom;
      if (answered) return Promise.resolve({ answered, detail: 'role master' });
      return Promise.resolve(
        options.refused ? { answered, refused: true, detail: 'refused: ECONNREFUSED' } : { answered, detail: 'no answer: timeout' },
      );
    },
    askWitnesses: () =>
      Promise.resolve([
        {
          member: 'cache-b',
          answered: true,
          follows: true,
          lost: true,
          ...(options.linkDownMs === undefined ? {} : { lostForMs: options.linkDownMs }),
          detail: 'link down',
        },
      ]),
  };
}

describe('confirming a death by rounds of probes over the window', () => {
  test('a first round that starts late still spans the whole window: the schedule counts from it, so a death seen in every round is confirmed', async () => {
    // Every reading after the confirmation's start is 50 ms on: as if the first round began 50 ms after the start (a
    // busy event loop in between).
    let calls = 0;
    const now = () => Date.now() + (++calls > 1 ? 50 : 0);
    const dead = observer();
    const record = await confirmDeath(dead, params, { signal: new AbortController().signal, logger, now });
    assert.equal(record.confirmed, true, record.reason);
  });

  test('probes the primary the configured number of times spread over the window, and records every round', async () => {
    const dead = observer();
    const record = await confirmDeath(dead, params, { signal: new AbortController().signal, logger });
    assert.equal(record.confirmed, true);
    assert.equal(dead.probes.length, 3);
    const first = dead.probes[0] ?? 0;
    assert.ok((dead.probes.at(-1) ?? 0) - first >= params.window, 'the last probe is a whole window after the first');
    assert.deepEqual(
      record.rounds.map((round) => [round.primary, round.witnesses]),
      Array.from({ length: 3 }, () => ['no answer: timeout', { 'cache-b': 'link down' }]),
    );
  });

  test('stops at the first answer of the primary and ends the run skipped, with the rounds as what the step observed', async () => {
    const alive = observer(2);
    const skip = await confirmDeath(alive, params, { signal: new AbortController().signal, logger }).catch((error: unknown) => error);
    assert.ok(skip instanceof RunSkip);
    assert.equal(skip.kind, 'primary-reachable');
    assert.equal(alive.probes.length, 2, 'no probe after the answer');
    const confirmation = (skip.details as { confirmation: { rounds: unknown[]; confirmed: boolean } }).confirmation;
    assert.equal(confirmation.confirmed, false);
    assert.equal(confirmation.rounds.length, 2);
  });

  test('a primary that refuses connections while the replicas report their link down for the window is dead after two probes', async () => {
    const killed = observer(undefined, { refused: true, linkDownMs: 3000 });
    const record = await confirmDeath(killed, params, { signal: new AbortController().signal, logger });
    assert.equal(record.confirmed, true);
    assert.equal(killed.probes.length, 2);
  });

  test('refused connections alone do not shorten the window: the replicas must have lost the primary for all of it', async () => {
    const restarting = observer(undefined, { refused: true, linkDownMs: 100 });
    const record = await confirmDeath(restarting, params, { signal: new AbortController().signal, logger });
    assert.equal(record.confirmed, true, 'lost for the whole window by the rounds themselves');
    assert.equal(restarting.probes.length, 3, 'a link down for less than the window needs every round');
  });

  test('a primary that only times out (hung, or cut off) is probed over the whole window, whatever the replicas say', async () => {
    const hung = observer(undefined, { linkDownMs: 60_000 });
    await confirmDeath(hung, params, { signal: new AbortController().signal, logger });
    assert.equal(hung.probes.length, 3);
  });

  test('an aborted step stops between rounds', async () => {
    const controller = new AbortController();
    const dead = observer();
    const confirming = confirmDeath(dead, { ...params, window: 10_000 }, { signal: controller.signal, logger });
    controller.abort(new Error('step timed out'));
    await assert.rejects(confirming, /step timed out/);
    assert.equal(dead.probes.length, 1);
  });
});
