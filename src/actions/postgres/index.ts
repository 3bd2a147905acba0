export * from './promote-action.js';
export * from './switchover-action.js';
