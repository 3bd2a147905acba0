// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { startSentinels, type SentinelOptions, type Sentinels as TestSentinels } from '../../tools/harness/redis-sentinel.js';
