import { after, before } from 'node:test';
import { startRedis, type TestRedis } from './redis-server.js';
import { startTestService, type TestService } from './service.js';

/** What {@link withTestService} gives a suite: the service and its Redis, once `before` ran. */
export interface ServiceSuite {
  app(): TestService;
  redis(): TestRedis;
}

type SuiteOptions = Omit<Parameters<typeof startTestService>[0], 'redisUrl'>;

/**
 * Starts a Redis and an in-process remediator on it before the suite's tests and stops both after: the set-up most
 * HTTP and CLI suites share. Call it inside `describe`. Pass a function when the options depend on what an outer
 * `before` made (certificate files, say): it is called when the suite starts.
 */
export function withTestService(options: SuiteOptions | (() => SuiteOptions)): ServiceSuite {
  let redis: TestRedis | undefined;
  let app: TestService | undefined;
  before(async () => {
    redis = await startRedis();
    app = await startTestService({ ...(typeof options === 'function' ? options() : options), redisUrl: redis.url });
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
