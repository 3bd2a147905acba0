import assert from 'node:assert/strict';
import { loadConfig, type Config } from '../../src/config/index.js';

/** A `readFile` for loadConfig that fails the test on any read: the environment under test names no `_FILE`. */
export const noFiles = (path: string): string => {
  throw Object.assign(new Error(`unexpected read of ${path}`), { code: 'EUNEXPECTED' });
};

/** The configuration loadConfig makes of `env`; fails the test with loadConfig's message if it is rejected. */
export function configOf(env: Record<string, string | undefined>, readFile: (path: string) => string = noFiles): Config {
  const result = loadConfig(env, readFile);
  if (!result.success) assert.fail(result.error);
  return result.data;
}

/** The message loadConfig rejects `env` with; fails the test if it is accepted. */
export function errorOf(env: Record<string, string | undefined>, readFile: (path: string) => string = noFiles): string {
  const result = loadConfig(env, readFile);
  if (result.success) assert.fail('expected the configuration to be rejected');
  return result.error;
}
