import type { Playbook, PlaybookGuard, PlaybookStep } from '../core/playbook.js';
import type { SourcePath } from '../sources/index.js';

/** A step list of a playbook file: where it is written, and where a loaded playbook keeps it. */
interface StepList {
  readonly at: SourcePath;
  readonly of: (playbook: Playbook) => readonly PlaybookStep[] | undefined;
}

/** The step lists of a playbook file; the loader keeps each list's order, so a step's index is the same in both. */
export const stepLists: readonly StepList[] = [
  { at: ['steps'], of: (playbook) => playbook.steps },
  { at: ['resolved', 'steps'], of: (playbook) => playbook.resolved?.steps },
  { at: ['skipped', 'steps'], of: (playbook) => playbook.skipped },
  { at: ['approval', 'notify'], of: (playbook) => playbook.approval?.notify },
];

/** Every step of a loaded playbook with the path it is written at in its file. */
export function stepsWithPaths(playbook: Playbook): { at: SourcePath; step: PlaybookStep }[] {
  return stepLists.flatMap(({ at, of }) => (of(playbook) ?? []).map((step, index) => ({ at: [...at, index], step })));
}

/** Every guard of a loaded playbook with the path it is written at in its file. */
export function guardsWithPaths(playbook: Playbook): { at: SourcePath; guard: PlaybookGuard }[] {
  return playbook.guards.map((guard, index) => ({ at: ['guards', index], guard }));
}
