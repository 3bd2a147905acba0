import type { Entrypoints } from './build.js';

/** What the harness gives every part of the benchmark. */
export interface PartOptions {
  /** A short run (`--quick`): fewer and shorter rounds. */
  quick: boolean;
  /** Progress for a person (stderr). */
  log: (line: string) => void;
  /** How to start remediator and the baselines. */
  entrypoints: Entrypoints;
}
