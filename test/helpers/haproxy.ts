// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { parseServersState, runtimeCommand, startHaproxy, type Haproxy as TestHaproxy } from '../../tools/harness/haproxy.js';
