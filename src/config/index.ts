export * from './config-schema.js';
export * from './load-config.js';
export * from './config-rules.js';
export * from './sentinel-list.js';
