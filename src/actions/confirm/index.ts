export * from './confirm-death.js';
export * from './confirm-schema.js';
export * from './death-verdict.js';
export * from './refused.js';
