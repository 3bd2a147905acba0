export * from './json-source.js';
export * from './problem-list.js';
export * from './raw-values.js';
export * from './source-document.js';
export * from './source-problem.js';
export * from './optional-file.js';
