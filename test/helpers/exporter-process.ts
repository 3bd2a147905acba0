// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { startExporterProcess, type ExporterProcess } from '../../tools/harness/remediator-process.js';
