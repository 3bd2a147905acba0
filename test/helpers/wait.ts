// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { waitFor } from '../../tools/harness/wait.js';
