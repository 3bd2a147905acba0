import { pass, type Gate, type GateRun, type GateVerdict } from './gate.js';

/**
 * Checks gates at once, so that their reads cost one round trip, and answers the first verdict (in the order given)
 * that is not a pass. What a passing gate took is released at once when another one stops the run.
 */
export function together<R extends GateRun>(...gates: readonly Gate<R>[]): Gate<R> {
  return {
    name: gates.map((gate) => gate.name).join('+'),
    async check(run) {
      const verdicts = await Promise.all(gates.map((gate) => gate.check(run)));
      const releases = verdicts.flatMap((verdict) => (verdict.kind === 'pass' && verdict.release ? [verdict.release] : [])).reverse();
      const releaseAll = async () => {
        for (const release of releases) await release();
      };
      const stop = verdicts.find((verdict) => verdict.kind !== 'pass');
      if (stop) {
        await releaseAll();
        return stop;
      }
      return releases.length === 0 ? pass : ({ kind: 'pass', release: releaseAll } satisfies GateVerdict);
    },
  };
}
