import { join } from 'node:path';

/** A one-step playbook that only logs each InstanceDown alert: runs are accepted and touch nothing outside the process. */
export const noteDownPlaybook = `
name: note-down
match: '{alertname="InstanceDown"}'
steps:
  - name: note
    action: log
    with: { message: 'down {{ labels.instance }}' }
`;

/**
 * A playbook named `act` whose one exec step appends the alert's `instance` label to `effectsFile`: one line per
 * step execution, so the file's lines count the side effects of InstanceDown alerts.
 */
export function appendInstancePlaybook(effectsFile: string): string {
  return `
name: act
match: '{alertname="InstanceDown"}'
steps:
  - name: side-effect
    action: exec
    with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ labels.instance }}', '${effectsFile}'] }
`;
}

/** The fence-then-promote playbook for PrimaryDown alerts and the files its steps write and read. */
export interface FenceThenPromote {
  /** The playbook's YAML. */
  yaml: string;
  /** `fence` appends one "fenced" line here each time it runs; it always succeeds. */
  fenceLog: string;
  /** `promote` appends one "try" line here each time it runs. */
  promoteLog: string;
  /** `promote` fails until this file exists; with `retry: { attempts: 1 }` the run fails at once. */
  replicaReady: string;
}

/**
 * A two-step playbook for retry tests, its files in `dir`: the first run fails at `promote` after `fence`
 * succeeded; once the test creates `replicaReady`, a retry must complete without running `fence` again.
 */
export function fenceThenPromote(dir: string): FenceThenPromote {
  const fenceLog = join(dir, 'fence.log');
  const promoteLog = join(dir, 'promote.log');
  const replicaReady = join(dir, 'replica-ready');
  const yaml = `
name: fence-then-promote
match: '{alertname="PrimaryDown"}'
retry: { attempts: 1 }
steps:
  - name: fence
    action: exec
    with: { command: ${JSON.stringify(['sh', '-c', 'echo fenced >> "$1"', 'sh', fenceLog])} }
  - name: promote
    action: exec
    with: { command: ${JSON.stringify(['sh', '-c', 'echo try >> "$2"; test -f "$1"', 'sh', replicaReady, promoteLog])} }
`;
  return { yaml, fenceLog, promoteLog, replicaReady };
}
