import { spawnSync } from 'node:child_process';

/** The programs `remediator test` runs, and where each comes from. */
export const requiredPrograms = [
  { name: 'redis-server', from: 'Redis (Debian: apt-get install redis-server)' },
  { name: 'prometheus', from: 'Prometheus (Debian: apt-get install prometheus)' },
  { name: 'promtool', from: "Prometheus's tools (Debian: apt-get install prometheus)" },
] as const;

/** The programs of `requiredPrograms` that cannot be started (not on PATH, not executable), each with a sentence. */
export function missingPrograms(): string[] {
  return requiredPrograms.flatMap((program) => {
    const probe = spawnSync(program.name, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    const code = (probe.error as NodeJS.ErrnoException | undefined)?.code;
    return code === 'ENOENT' || code === 'EACCES' ? [`${program.name} is not on PATH: install ${program.from}`] : [];
  });
}
