import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GrafanaDashboard } from './dashboard-kit.js';
import { fleetDashboard } from './fleet-dashboard.js';
import { queueDashboard } from './queue-dashboard.js';
import { recoveryDashboard } from './recovery-dashboard.js';
import { sloDashboard } from './slo-dashboard.js';

/** Where `remediator dashboards generate` writes by default; Grafana's file provider reads it (grafana/provisioning/dashboards). */
export const defaultDashboardsDir = 'grafana/dashboards';

/** Every dashboard remediator ships, in the order of docs/slos-and-dashboards.md. */
export function allDashboards(): GrafanaDashboard[] {
  return [sloDashboard(), recoveryDashboard(), queueDashboard(), fleetDashboard()];
}

/** One dashboard as its committed file: `<uid>.json`, pretty-printed with a final newline. */
export interface DashboardFile {
  name: string;
  content: string;
}

/** Renders every dashboard to the text of its file. */
export function renderDashboards(dashboards: GrafanaDashboard[] = allDashboards()): DashboardFile[] {
  return dashboards.map((dashboard) => {
    if (dashboard.uid === undefined) throw new Error(`dashboard "${dashboard.title}" has no uid`);
    return { name: `${dashboard.uid}.json`, content: `${JSON.stringify(dashboard, null, 2)}\n` };
  });
}

/** Writes every dashboard file into `dir` (created if needed); returns the file names. */
export async function writeDashboards(dir: string, files: DashboardFile[] = renderDashboards()): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  for (const file of files) await writeFile(join(dir, file.name), file.content);
  return files.map((file) => file.name);
}

/** How the files in a directory differ from what the generator produces. */
export interface DashboardsDrift {
  /** Generated files that are absent. */
  missing: string[];
  /** Files whose content differs from the generated one. */
  stale: string[];
  /** JSON files no dashboard produces any more (Grafana would still provision them). */
  unexpected: string[];
}

/** Compares `dir` with the generated files; every list empty means up to date. */
export async function checkDashboards(dir: string, files: DashboardFile[] = renderDashboards()): Promise<DashboardsDrift> {
  const present: string[] = await readdir(dir).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  const drift: DashboardsDrift = { missing: [], stale: [], unexpected: [] };
  for (const file of files) {
    if (!present.includes(file.name)) drift.missing.push(file.name);
    else if ((await readFile(join(dir, file.name), 'utf8')) !== file.content) drift.stale.push(file.name);
  }
  const names = new Set(files.map((file) => file.name));
  drift.unexpected = present.filter((name) => name.endsWith('.json') && !names.has(name)).sort();
  return drift;
}

/** True when `drift` lists nothing. */
export const upToDate = (drift: DashboardsDrift): boolean => drift.missing.length + drift.stale.length + drift.unexpected.length === 0;
