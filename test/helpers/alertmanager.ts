// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { startAlertmanager, type Alertmanager as TestAlertmanager, type PostableAlert } from '../../tools/harness/alertmanager.js';
