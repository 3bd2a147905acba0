import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nonPlaybookFiles } from '../../src/playbooks/load-playbooks.js';
import { lintConfigFile } from './lint-config.js';

/** One file of the project: its path relative to the project's root (with `/`) and its text. */
export interface ProjectFile {
  readonly path: string;
  readonly text: string;
}

/** The files `remediator lint` reads, laid out like this repository. */
export interface ProjectFiles {
  /** rules/*.yml: the rule files Prometheus loads (prometheus.yml's rule_files; a .yaml there is not a rule file). */
  readonly rules: readonly ProjectFile[];
  /** remediations/*.yaml and *.yml except the inventory (sub-folders such as examples/ are not loaded, so not linted). */
  readonly playbooks: readonly ProjectFile[];
  /** remediations/inventory.yaml, if there is one: the clusters playbook steps may name. */
  readonly inventory?: ProjectFile;
  /** remediations/drills.yaml, if there is one: the failover drills (src/drills/). */
  readonly drills?: ProjectFile;
  /** grafana/dashboards/*.json. */
  readonly dashboards: readonly ProjectFile[];
  /** prometheus/prometheus.yml, if there is one. */
  readonly prometheusConfig?: ProjectFile;
  /** lint.yaml, if there is one. */
  readonly lintConfig?: ProjectFile;
}

/** The directories of a project, relative to its root. */
export const projectLayout = {
  rules: 'rules',
  playbooks: 'remediations',
  inventory: 'remediations/inventory.yaml',
  drills: 'remediations/drills.yaml',
  dashboards: 'grafana/dashboards',
  prometheusConfig: 'prometheus/prometheus.yml',
} as const;

/** Reads a project directory; missing directories and files are simply empty (lint reports what that means). */
export async function readProjectFiles(root: string): Promise<ProjectFiles> {
  const [rules, playbooks, inventory, drills, dashboards, prometheusConfig, lintConfig] = await Promise.all([
    readDir(root, projectLayout.rules, (name) => name.endsWith('.yml')),
    readDir(root, projectLayout.playbooks, (name) => /\.ya?ml$/.test(name) && !nonPlaybookFiles.has(name)),
    readOptional(root, projectLayout.inventory),
    readOptional(root, projectLayout.drills),
    readDir(root, projectLayout.dashboards, (name) => name.endsWith('.json')),
    readOptional(root, projectLayout.prometheusConfig),
    readOptional(root, lintConfigFile),
  ]);
  return {
    rules,
    playbooks,
    ...(inventory === undefined ? {} : { inventory }),
    ...(drills === undefined ? {} : { drills }),
    dashboards,
    ...(prometheusConfig === undefined ? {} : { prometheusConfig }),
    ...(lintConfig === undefined ? {} : { lintConfig }),
  };
}

async function readDir(root: string, dir: string, wanted: (name: string) => boolean): Promise<ProjectFile[]> {
  let names: string[];
  try {
    names = (await readdir(join(root, dir), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && wanted(entry.name))
      .map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return Promise.all(names.sort().map(async (name) => ({ path: `${dir}/${name}`, text: await readFile(join(root, dir, name), 'utf8') })));
}

async function readOptional(root: string, path: string): Promise<ProjectFile | undefined> {
  try {
    return { path, text: await readFile(join(root, path), 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
