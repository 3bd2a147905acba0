export * from './failover-action.js';
export * from './sentinel-failover-action.js';
export * from './switchover-action.js';
