// Runs the recovery benchmark alone: `npx tsx bench/recovery-main.ts [--quick]`. Progress on stderr, the figures
// as one JSON line on stdout. `npm run bench` (bench/run.ts) runs it with the others.
import { benchRecovery } from './recovery.js';

// Ctrl-C: exit, which stops the labs' processes (benchRecovery kills what is left on exit).
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.exit(130);
  });

const figures = await benchRecovery({
  quick: process.argv.includes('--quick'),
  log: (line) => {
    process.stderr.write(`${line}\n`);
  },
  ...(process.env.SENTINEL_DOWN_AFTER_MS ? { sentinelDownAfterMs: Number(process.env.SENTINEL_DOWN_AFTER_MS) } : {}),
});
process.stdout.write(`${JSON.stringify(figures)}\n`);
