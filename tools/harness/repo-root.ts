import { fileURLToPath } from 'node:url';

/** The repository's root (tools/harness/ lives two levels below it). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
