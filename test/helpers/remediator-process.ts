// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { runRemediator, sourceCommand, startRemediatorProcess, type RemediatorProcess } from '../../tools/harness/remediator-process.js';
