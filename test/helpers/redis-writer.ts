// The harness's steady writer (tools/harness/steady-writer.ts): the switchover tests and the bench use the same.
export { startSteadyWriter, type SteadyWriter, type WriterReport } from '../../tools/harness/steady-writer.js';
