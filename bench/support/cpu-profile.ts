import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** One row of a profile summary: a function (or a package) and its share of the samples. */
export interface ProfileRow {
  name: string;
  selfPercent: number;
  totalPercent: number;
}

const shortUrl = (url: string): string => {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
};

const packageOf = (url: string): string => {
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return 'node:*';
  const modules = url.lastIndexOf('node_modules/');
  if (modules < 0) return url.includes('/src/') ? 'remediator src/' : shortUrl(url);
  const rest = url.slice(modules + 'node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
};

/**
 * Reads a .cpuprofile (node --cpu-prof) and returns the top functions by self time and the packages by self
 * time, as percentages of all samples (idle excluded from neither, so the reader sees how busy the process was).
 */
export async function summarizeCpuProfile(
  file: string,
  top = 25,
): Promise<{ samples: number; idlePercent: number; functions: ProfileRow[]; packages: ProfileRow[] }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const packages = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  // Inclusive time per function: the hits of its subtree, counting a recursive function once per path.
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    const frame = node.callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    let hits = node.hitCount ?? 0;
    if (frame.functionName === '(idle)') idle += hits;
    self.set(key, (self.get(key) ?? 0) + hits);
    const pkg = packageOf(frame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + hits);
    const added = !onPath.has(key);
    if (added) onPath.add(key);
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next) hits += walk(next, onPath);
    }
    if (added) {
      onPath.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
    return hits;
  };
  const root = profile.nodes[0];
  if (root) walk(root, new Set());
  const percent = (hits: number) => Math.round((hits / Math.max(1, total)) * 1000) / 10;
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ name, selfPercent: percent(hits), totalPercent: percent(inclusive.get(name) ?? hits) }));
  return { samples: total, idlePercent: percent(idle), functions: rows(self), packages: rows(packages) };
}
