import type { Inventory } from '../inventory/inventory.js';
import { createProblemList, readOptionalFile, readYamlSource, sortByLine, type SourcePath, type SourceProblem } from '../sources/index.js';
import { drillClusterKinds, type Drill, type DrillClusterKind } from './drill.js';
import { parseDrillSchedule, type DrillSchedule } from './drill-schedule.js';
import { drillSchema, drillsFileSchema, type DrillEntry } from './drill-schema.js';

/** The file of a remediations directory that holds the drills (not a playbook). */
export const drillsFileName = 'drills.yaml';

/** The outcome of loading the drills: every problem at once, or the drills. */
export type LoadDrillsResult = { success: true; drills: Drill[] } | { success: false; problems: SourceProblem[] };

/** Occurrences looked at to learn a schedule's intervals (its default period, its shortest gap). */
const sampledGaps = 20;

/**
 * Loads remediations/drills.yaml; a missing file is no drills. `inventory` is undefined when it did not load (its
 * own problems are reported): the clusters are then not checked. `now` is when the schedules' intervals are sampled.
 */
export async function loadDrills(
  path: string,
  options: { inventory: Inventory | undefined; now?: number; displayPath?: string },
): Promise<LoadDrillsResult> {
  const file = options.displayPath ?? path;
  const read = await readOptionalFile(path, file, 'the drills');
  if ('missing' in read) return { success: true, drills: [] };
  if ('problem' in read) return { success: false, problems: [read.problem] };
  return parseDrillsSource(file, read.text, options.inventory, options.now ?? Date.now());
}

/** read → schema → rules for the drills text; every drill is checked even when another one is malformed. */
export function parseDrillsSource(file: string, text: string, inventory: Inventory | undefined, now: number): LoadDrillsResult {
  const read = readYamlSource(file, text, 'drills file');
  if (!read.success) return read;
  const { problems, add, addIssues } = createProblemList(read.document);
  const parsed = drillsFileSchema.safeParse(read.document.value);
  if (!parsed.success) {
    addIssues(parsed.error.issues);
    return { success: false, problems: sortByLine(problems) };
  }
  const drills: Drill[] = [];
  const names = new Map<string, number>();
  parsed.data.drills.forEach((raw, index) => {
    const at: SourcePath = ['drills', index];
    const entry = drillSchema.safeParse(raw);
    if (!entry.success) {
      addIssues(entry.error.issues, at);
      return;
    }
    const earlier = names.get(entry.data.name);
    if (earlier !== undefined) add([...at, 'name'], `drill "${entry.data.name}" is already defined at drills[${earlier}]`);
    names.set(entry.data.name, index);
    const drill = checkDrill(entry.data, {
      inventory,
      now,
      add: (path, message) => {
        add([...at, ...path], message);
      },
    });
    if (drill) drills.push(drill);
  });
  return problems.length > 0 ? { success: false, problems: sortByLine(problems) } : { success: true, drills };
}

/** The cross-field rules of one drill; the drill when it has no problem. */
function checkDrill(
  entry: DrillEntry,
  ctx: { inventory: Inventory | undefined; now: number; add: (path: SourcePath, message: string) => void },
): Drill | undefined {
  const found: { path: SourcePath; message: string }[] = [];
  const clusterKind = checkCluster(entry.cluster, ctx.inventory, (message) => found.push({ path: ['cluster'], message }));
  const parsed = parseDrillSchedule(entry.schedule, entry.timezone, entry.window);
  if (parsed.success) {
    const { shortest, longest } = intervals(parsed.schedule, ctx.now);
    if (entry.window > shortest)
      found.push({
        path: ['window'],
        message: `${formatMs(entry.window)} is longer than the shortest interval of the schedule (${formatMs(shortest)}): windows would overlap`,
      });
    if (entry.period !== undefined && entry.period <= longest)
      found.push({
        path: ['period'],
        message: `${formatMs(entry.period)} is not longer than the longest interval of the schedule (${formatMs(longest)}): the overdue alert would fire between two successful drills`,
      });
    if (found.length === 0 && clusterKind !== undefined)
      return {
        name: entry.name,
        cluster: entry.cluster,
        clusterKind,
        kind: entry.kind,
        schedule: entry.schedule,
        timezone: entry.timezone,
        windowMs: entry.window,
        periodMs: entry.period ?? 2 * longest,
      };
  } else {
    found.push({ path: parsed.message.startsWith('unknown time zone') ? ['timezone'] : ['schedule'], message: parsed.message });
  }
  for (const { path, message } of found) ctx.add(path, message);
  return undefined;
}

/** The kind of the drill's cluster when the inventory has it and a drill can exercise it. */
function checkCluster(name: string, inventory: Inventory | undefined, problem: (message: string) => void): DrillClusterKind | undefined {
  // An inventory that did not load reports its own problems; a drill cannot be checked against it.
  if (inventory === undefined) return undefined;
  const cluster = inventory.clusters.get(name);
  if (!cluster) {
    const known = [...inventory.clusters.keys()].sort();
    problem(`cluster "${name}" is not in the inventory${known.length === 0 ? ' (it has no cluster)' : ` (known: ${known.join(', ')})`}`);
    return undefined;
  }
  const kind = drillClusterKinds.find((candidate) => candidate === cluster.kind);
  if (kind === undefined)
    problem(`cluster "${name}" is of kind ${cluster.kind}: drills exercise ${drillClusterKinds.join(' and ')} clusters`);
  return kind;
}

/** The shortest and longest gaps between the schedule's next occurrences after `now`. */
function intervals(schedule: DrillSchedule, now: number): { shortest: number; longest: number } {
  const gaps = schedule.gaps(now, sampledGaps);
  return { shortest: Math.min(...gaps), longest: Math.max(...gaps) };
}

/** A duration as people write it in the file: 90s → 1m30s is not needed, the largest exact unit is. */
export function formatMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
