import { after, before } from 'node:test';
import { startRedis, type TestRedis } from './redis-server.js';
import { startTestService, type TestService } from './service.js';

/** What {@link withTestService} gives a suite: the service and its Redis, once `before` ran. */
export interface ServiceSuite {
  app(): TestService;
  redis(): TestRedis;
}

/**
 * Starts a Redis and an in-process remediator on it before the suite's tests and stops both after: the set-up most
 * HTTP and CLI suites share. Call it inside `describe`.
 */
export function withTestService(options: Omit<Parameters<typeof startTestService>[0], 'redisUrl'>): ServiceSuite {
  let redis: TestRedis | undefined;
  let app: TestService | undefined;
  before(async () => {
    redis = await startRedis();
    app = await startTestService({ ...options, redisUrl: redis.url });
  });
  after(async () => {
    await app?.close();
    await redis?.stop();
  });
  return {
    app: () =>
      app ??
      ((): never => {
        throw new Error('the service is not started yet (call app() inside a test)');
      })(),
    redis: () =>
      redis ??
      ((): never => {
        throw new Error('Redis is not started yet (call redis() inside a test)');
      })(),
  };
}
