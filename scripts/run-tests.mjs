#!/usr/bin/env node
// Runs the tests with node:test (through tsx; Node 20 cannot glob .ts files itself).
// Usage: node scripts/run-tests.mjs [--tier unit|integration|e2e] [filter…]   (a filter keeps files whose path contains it)
//
// Tiers (CONTRIBUTING.md):
//   unit         test/**/*.unit.test.ts: no servers, no child processes; run with a PATH that holds only node, so a
//                unit test that reaches for redis-server (or any program) fails instead of passing by luck
//   e2e          test/e2e/** and test/lab/**: whole processes, Alertmanager to failover, the lab
//   integration  every other test: real Redis, PostgreSQL, HAProxy, Prometheus, … started by the tests
// Without --tier every test runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const tierAt = args.indexOf('--tier');
const tier = tierAt < 0 ? undefined : args[tierAt + 1];
const filters = tierAt < 0 ? args : args.filter((_arg, index) => index !== tierAt && index !== tierAt + 1);
const tiers = {
  unit: (file) => file.endsWith('.unit.test.ts'),
  e2e: (file) => file.startsWith('test/e2e/') || file.startsWith('test/lab/'),
  integration: (file) => !tiers.unit(file) && !tiers.e2e(file),
};
if (tier !== undefined && !(tier in tiers)) {
  console.error(`unknown tier ${tier}: unit, integration or e2e`);
  process.exit(2);
}

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const files = find(join(root, 'test'))
  .filter((file) => tier === undefined || tiers[tier](file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  // The longest first (the e2e tier: whole labs that mostly wait on Prometheus' intervals), so that the files
  // started last are short ones and the run does not end on one long file with the other slots idle.
  .sort((a, b) => Number(tiers.e2e(b)) - Number(tiers.e2e(a)) || Number(tiers.unit(a)) - Number(tiers.unit(b)) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`no test files match ${[tier ? `--tier ${tier}` : '', ...filters].join(' ')}`);
  process.exit(1);
}

const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' };
let bin;
if (tier === 'unit') {
  // Only node on PATH: the unit tier needs no other program, and must not find one.
  bin = mkdtempSync(join(tmpdir(), 'remediator-unit-path-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  env.PATH = bin;
}
// Four files at a time on two cores: most of a file's time is spent waiting (scrape and evaluation intervals,
// confirmation windows, scenario durations). Three kept a full run near 10 minutes once the suite passed 1,300 tests.
const concurrency = process.env.TEST_CONCURRENCY ?? '4';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env },
);
child.on('exit', (code, signal) => {
  if (bin) rmSync(bin, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
