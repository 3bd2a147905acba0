export * from './action.js';
export * from './action-registry.js';
export * from './email-action.js';
export * from './exec-action.js';
export * from './http-action.js';
export * from './log-action.js';
export * from './promql-wait-action.js';
export * from './default-actions.js';
