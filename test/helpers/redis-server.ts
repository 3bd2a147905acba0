// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { startRedis, type RedisServer as TestRedis } from '../../tools/harness/redis-server.js';
