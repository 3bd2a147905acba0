import type { Drill } from '../../src/drills/drill.js';

/** A weekly switchover drill of the Redis cluster `cache`: Tuesdays 03:00 UTC, a 1 h window, a 14 d period. */
export const weeklyCacheDrill: Drill = {
  name: 'cache-weekly',
  cluster: 'cache',
  clusterKind: 'redis',
  kind: 'switchover',
  schedule: '0 3 * * 2',
  timezone: 'UTC',
  windowMs: 3_600_000,
  periodMs: 14 * 86_400_000,
};
