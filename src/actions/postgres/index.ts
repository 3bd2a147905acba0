export * from './promote-action.js';
