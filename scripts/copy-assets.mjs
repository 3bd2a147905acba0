#!/usr/bin/env node
// Copies the files the compiled code reads beside itself (src/**/*.lua: the Redis scripts) into the build output,
// which tsc does not do. Usage: node scripts/copy-assets.mjs [outDir]   (default: dist)
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const out = process.argv[2] ?? join(root, 'dist');
const assets = /\.lua$/;

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return find(path);
    return assets.test(entry.name) ? [path] : [];
  });
}

for (const file of find(src)) {
  const target = join(out, relative(src, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}
