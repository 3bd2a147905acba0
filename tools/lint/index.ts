export * from './lint-directory.js';
export * from './lint-project.js';
export * from './project-files.js';
