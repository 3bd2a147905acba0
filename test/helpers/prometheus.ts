// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { startPrometheus, type Prometheus as TestPrometheus } from '../../tools/harness/prometheus.js';
