import type { Redis } from 'ioredis';

/**
 * Every key matching `pattern`, by SCAN (never KEYS: it blocks the server). Bounded: a scan visits each key once,
 * and `maxRounds` rounds of 1,000 stop a runaway cursor.
 */
export async function scanKeys(redis: Redis, pattern: string, maxRounds = 10_000): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  for (let round = 0; round < maxRounds; round++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  return keys;
}
