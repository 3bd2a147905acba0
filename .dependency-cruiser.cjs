// The import boundaries of remediator, checked by `npm run boundaries` (part of `npm test`).
// See docs/architecture.md: data flows one way, the core depends on nothing above it, dev-time tools stay out of
// the runtime.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment:
        'src/core (errors, templates, label sets, playbook and run types, the action contract) must not depend on anything above it.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^(src|tools)/', pathNot: '^src/core/' },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend on each other in one direction only: a cycle between two folders means a concept sits in the wrong one.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(src|tools)/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'No module imports itself through others.',
      severity: 'error',
      from: { path: '^(src|tools)/' },
      to: { circular: true },
    },
    {
      name: 'runtime-never-imports-tools',
      comment:
        'tools/ (lab, lint, SLO and dashboard generation, the harness) is not in the service image: src/ loads it only through src/cli/dev-tools.ts, by a computed URL.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^tools/' },
    },
    {
      name: 'runtime-never-imports-tests',
      severity: 'error',
      from: { path: '^(src|tools)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
