import { pass, type Gate, type GateVerdict } from './gate.js';

/**
 * Admission: the guards and budgets of a remediation, decided once, under the lease, before its first step acts.
 * A retry of a run that already acted finishes it rather than leaving a half-done failover because a guard changed
 * its mind. The decision and the first step's start are written in one checkpoint.
 */
export function createAdmissionGate(deps: { gates: readonly Gate[]; now: () => Date }): Gate {
  return {
    name: `admission(${deps.gates.map((gate) => gate.name).join(',')})`,
    async check(run) {
      const { data } = run;
      if (data.admittedAt !== undefined) return pass;
      let verdict: GateVerdict = pass;
      for (const gate of deps.gates) {
        verdict = await gate.check(run);
        if (verdict.kind !== 'pass') break;
      }
      if (verdict.kind === 'pass') {
        data.admittedAt = deps.now().toISOString();
        // Admitted: the first step starts now, so this checkpoint records both (the steps then have none to write).
        data.firstStartedAt ??= deps.now().toISOString();
      }
      await run.checkpoint();
      return verdict;
    },
  };
}
