import type { CollectorsByKind } from './collector.js';
import { createNodeCollector } from './node-collector.js';
import { createPostgresCollector } from './postgres-collector.js';
import { createRedisCollector } from './redis-collector.js';
import { createStreamCollector } from './stream-collector.js';

/** The collector of each cluster kind: protocol probes where remediator speaks the protocol, else health URL or TCP. */
export function createDefaultCollectors(): CollectorsByKind {
  const node = createNodeCollector();
  return {
    redis: createRedisCollector(),
    postgres: createPostgresCollector(),
    stream: createStreamCollector(),
    http: node,
    generic: node,
  };
}
