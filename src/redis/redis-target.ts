import type { Config, SentinelAddress } from '../config/index.js';

/** How to reach the primary through Redis Sentinel. */
export interface SentinelTarget {
  readonly sentinels: readonly SentinelAddress[];
  /** The master name the sentinels monitor (`sentinel monitor <name> …`). */
  readonly name: string;
  /** AUTH for the data servers (the primary and its replicas). */
  readonly password?: string | undefined;
  /** AUTH for the sentinels themselves. */
  readonly sentinelPassword?: string | undefined;
}

/** Remediator's own Redis: one server by URL, or whichever server the sentinels name as the primary. */
export type RedisTarget = string | SentinelTarget;

/** The Redis the configuration names; undefined when it names none (serve then starts an embedded Redis). */
export function redisTargetOf(config: Config): RedisTarget | undefined {
  if (config.REDIS_SENTINELS === undefined) return config.REDIS_URL;
  // loadConfig's rules make REDIS_SENTINEL_NAME present whenever REDIS_SENTINELS is.
  if (config.REDIS_SENTINEL_NAME === undefined) throw new Error('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS');
  return {
    sentinels: config.REDIS_SENTINELS,
    name: config.REDIS_SENTINEL_NAME,
    password: config.REDIS_PASSWORD,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
  };
}
