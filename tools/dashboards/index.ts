export * from './generate-dashboards.js';
export * from './panel-targets.js';
export { fleetDashboard } from './fleet-dashboard.js';
export { queueDashboard } from './queue-dashboard.js';
export { recoveryDashboard } from './recovery-dashboard.js';
export { sloDashboard } from './slo-dashboard.js';
