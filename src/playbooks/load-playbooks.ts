import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseLabelMatchers } from '../core/label-matcher.js';
import { parseSilenceMatchers } from '../core/silence-matchers.js';
import { parsePromql } from '../core/promql/parse-promql.js';
import type { ActionRegistry } from '../core/action-registry.js';
import { playbookFileSchema, stepSchema, type PlaybookFile } from './playbook-schema.js';
import { stepLists } from './playbook-paths.js';
import type { Playbook, PlaybookStep } from '../core/playbook.js';
import {
  createProblemList,
  problemAt,
  readYamlSource,
  sortByLine,
  type SourceDocument,
  type SourcePath,
  type SourceProblem,
} from '../sources/index.js';
import {
  findReferences,
  isWholeReference,
  renderValue,
  replaceReferences,
  templateStrings,
  type TemplateContext,
} from '../core/template/template.js';

type Path = SourcePath;

/** The outcome of loading playbooks: every problem at once, or the playbooks. */
export type LoadPlaybooksResult = { success: true; playbooks: Playbook[] } | { success: false; problems: SourceProblem[] };

/** What the playbooks are checked against besides themselves: the settings of the process that will run them. */
export interface PlaybookLoadOptions {
  /** False: a playbook with `silence:` is a problem (no Alertmanager to silence in); undefined: not checked. */
  alertmanagerConfigured?: boolean;
}

/** Files in a remediations directory that are not playbooks: the inventory, the failover drills (src/drills/). */
export const nonPlaybookFiles = new Set(['inventory.yaml', 'inventory.yml', 'drills.yaml']);

/** Loads every *.yaml / *.yml playbook directly in `dir` (sub-folders such as examples/ are not loaded). */
export async function loadPlaybooks(
  dir: string,
  actions: ActionRegistry,
  displayRoot = process.cwd(),
  options: PlaybookLoadOptions = {},
): Promise<LoadPlaybooksResult> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name) && !nonPlaybookFiles.has(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    return {
      success: false,
      problems: [{ file: dir, message: `cannot read the playbook directory (${(error as NodeJS.ErrnoException).code ?? 'error'})` }],
    };
  }
  const sources = await Promise.all(
    names.map(async (name) => ({ file: displayPath(displayRoot, join(dir, name)), text: await readFile(join(dir, name), 'utf8') })),
  );
  return parsePlaybookSources(sources, actions, options);
}

/** A path relative to `root` when inside it, absolute otherwise. */
function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(path) : rel;
}

/** Validates playbook sources (file name + YAML text) together, so cross-file rules see all of them. */
export function parsePlaybookSources(
  sources: readonly { file: string; text: string }[],
  actions: ActionRegistry,
  options: PlaybookLoadOptions = {},
): LoadPlaybooksResult {
  const { results, problems } = readPlaybookSources(sources, actions, options);
  if (sources.length === 0) problems.push({ file: '(remediations)', message: 'no playbooks found' });
  return problems.length > 0
    ? { success: false, problems }
    : { success: true, playbooks: results.flatMap((result) => (result.playbook ? [result.playbook] : [])) };
}

/** One playbook file after read → schema → rules. */
export interface PlaybookSourceResult {
  readonly file: string;
  /** Present when the file parsed as YAML: where each value of it is written. */
  readonly document?: SourceDocument;
  /** Present when the file has no problem of its own. */
  readonly playbook?: Playbook;
}

/**
 * Each source read → schema → rules, then the rules across files (a name is defined once). Every problem, in file
 * order; an empty set of sources is the caller's to judge (lint says it its own way).
 */
export function readPlaybookSources(
  sources: readonly { file: string; text: string }[],
  actions: ActionRegistry,
  options: PlaybookLoadOptions = {},
): { results: PlaybookSourceResult[]; problems: SourceProblem[] } {
  const problems: SourceProblem[] = [];
  const results: PlaybookSourceResult[] = [];
  const seen = new Map<string, string>();
  for (const source of sources) {
    const result = parsePlaybookSource(source.file, source.text, actions, options);
    results.push({
      file: source.file,
      ...(result.document ? { document: result.document } : {}),
      ...(result.playbook ? { playbook: result.playbook } : {}),
    });
    problems.push(...result.problems);
    if (!result.playbook) continue;
    const earlier = seen.get(result.playbook.name);
    if (earlier !== undefined && result.document)
      problems.push(problemAt(result.document, ['name'], `playbook "${result.playbook.name}" is already defined in ${earlier}`));
    seen.set(result.playbook.name, source.file);
  }
  return { results, problems };
}

/** read → schema → rules for one file. */
export function parsePlaybookSource(
  file: string,
  text: string,
  actions: ActionRegistry,
  options: PlaybookLoadOptions = {},
): { problems: SourceProblem[]; document?: SourceDocument; playbook?: Playbook } {
  const read = readYamlSource(file, text, 'playbook');
  if (!read.success) return { problems: read.problems };
  const { document } = read;
  const raw = document.value;
  const { problems, add, addIssues } = createProblemList(document);
  const parsed = playbookFileSchema.safeParse(raw);
  if (!parsed.success) addIssues(parsed.error.issues);
  // The rules run on whatever parts are well-formed even when the schema failed elsewhere, so one pass
  // reports every problem of the file.
  const parts = wellFormedParts(raw);
  const matchers = parts.match === undefined ? undefined : parseLabelMatchers(parts.match);
  if (matchers && !matchers.success) for (const message of matchers.errors) add(['match'], message);
  const silence = parts.silence === undefined ? undefined : parseSilenceMatchers(parts.silence);
  if (silence && !silence.success) for (const message of silence.errors) add(['silence', 'matchers'], message);
  if (parts.hasSilence && options.alertmanagerConfigured === false)
    add(['silence'], 'needs ALERTMANAGER_URL (the Alertmanagers to silence in); set it, or remove silence:');
  for (const rule of playbookRules) rule({ parts, actions, add });
  if (!parsed.success || problems.length > 0 || !matchers?.success) return { problems: sortByLine(problems), document };
  const data = parsed.data;

  const toStep = (step: Step): PlaybookStep => ({
    name: step.name,
    action: step.action,
    with: step.with,
    timeoutMs: step.timeout ?? actions.get(step.action)?.defaultTimeoutMs ?? 60_000,
  });
  const playbook: Playbook = {
    name: data.name,
    ...(data.description === undefined ? {} : { description: data.description }),
    file,
    match: data.match,
    matchers: matchers.matchers,
    on: data.on,
    target: data.target,
    retry: { attempts: data.retry.attempts, backoffMs: data.retry.backoff },
    mode: data.mode,
    ...(data.rto === undefined ? {} : { rtoMs: data.rto }),
    guards: data.guards.map(({ description, ...guard }) => ({ ...guard, ...(description === undefined ? {} : { description }) })),
    ...(data.budget === undefined
      ? {}
      : { budget: { cooldownMs: data.budget.cooldown, maxRuns: data.budget.maxRuns, windowMs: data.budget.window } }),
    ...(data.approval?.required === true
      ? {
          approval: {
            timeoutMs: data.approval.timeout,
            onTimeout: data.approval.onTimeout,
            notify: (data.approval.notify ?? []).map(toStep),
            ...(data.approval.linkUser === undefined ? {} : { linkUser: data.approval.linkUser }),
          },
        }
      : {}),
    ...(data.silence === undefined || !silence?.success
      ? {}
      : { silence: { match: data.silence.matchers, matchers: silence.matchers, durationMs: data.silence.duration } }),
    steps: data.steps.map(toStep),
    ...(data.skipped === undefined ? {} : { skipped: data.skipped.steps.map(toStep) }),
    ...(data.resolved === undefined ? {} : { resolved: { delayMs: data.resolved.delay, steps: data.resolved.steps.map(toStep) } }),
  };
  return { playbook, problems, document };
}

const toPathPart = (part: PropertyKey): string | number => (typeof part === 'number' ? part : String(part));

type Step = PlaybookFile['steps'][number];

/** The parts of a playbook file that are well-formed on their own, each step with its path in the file. */
interface WellFormedParts {
  match?: string;
  target?: string;
  on?: unknown;
  hasResolved: boolean;
  /** `silence.matchers`, when a string. */
  silence?: string;
  hasSilence: boolean;
  /** `approval.linkUser`, when a string. */
  approvalLinkUser?: string;
  /** Steps of `steps:`, `resolved.steps:`, `skipped.steps:` and `approval.notify:`; `list` tells them apart (names are unique per list). */
  steps: { at: Path; list: string; step: Step }[];
  guards: { at: Path; query: string }[];
}

function wellFormedParts(raw: unknown): WellFormedParts {
  const object = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const section = (value: unknown) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined);
  const resolved = section(object.resolved);
  const silence = section(object.silence)?.matchers;
  const linkUser = section(object.approval)?.linkUser;
  const stepsAt = (list: unknown, at: Path) =>
    (Array.isArray(list) ? (list as unknown[]) : []).flatMap((item, index) => {
      const step = stepSchema.safeParse(item);
      return step.success ? [{ at: [...at, index], list: at.join('.'), step: step.data }] : [];
    });
  const rawAt = (at: Path) => at.reduce<unknown>((value, key) => section(value)?.[key], object);
  return {
    ...(typeof object.match === 'string' ? { match: object.match } : {}),
    ...(typeof object.target === 'string' ? { target: object.target } : {}),
    on: object.on,
    hasResolved: resolved !== undefined,
    ...(typeof silence === 'string' ? { silence } : {}),
    hasSilence: object.silence !== undefined,
    ...(typeof linkUser === 'string' ? { approvalLinkUser: linkUser } : {}),
    steps: stepLists.flatMap(({ at }) => stepsAt(rawAt(at), at)),
    guards: (Array.isArray(object.guards) ? (object.guards as unknown[]) : []).flatMap((guard, index) => {
      const query = section(guard)?.query;
      return typeof query === 'string' ? [{ at: ['guards', index, 'query'], query }] : [];
    }),
  };
}

/** A cross-field rule; reports problems through `add`. */
type PlaybookRule = (ctx: { parts: WellFormedParts; actions: ActionRegistry; add: (path: Path, message: string) => void }) => void;

const uniqueStepNames: PlaybookRule = ({ parts, add }) => {
  const seen = new Set<string>();
  for (const { at, list, step } of parts.steps) {
    if (seen.has(`${list}/${step.name}`)) add([...at, 'name'], `step name "${step.name}" is used twice`);
    seen.add(`${list}/${step.name}`);
  }
};

const failbackOnlyForFiring: PlaybookRule = ({ parts, add }) => {
  // A resolved playbook has nothing to fail back from; its steps already run on resolution.
  if (parts.hasResolved && parts.on === 'resolved')
    add(
      ['resolved'],
      'resolved: (failback) applies to on: firing playbooks; an on: resolved playbook already runs when the alert resolves',
    );
};

const knownTemplateReferences: PlaybookRule = ({ parts, add }) => {
  const strings = [
    ...(parts.target === undefined ? [] : [{ path: ['target'] as Path, text: parts.target }]),
    ...parts.guards.map(({ at, query }) => ({ path: at, text: query })),
    ...parts.steps.flatMap(({ at, step }) => templateStrings(step.with, [...at, 'with'])),
  ];
  for (const { path, text } of strings) for (const problem of findReferences(text).problems) add(path, problem);
  // Only a skipped: step has a reason to tell; anywhere else the reference could never be rendered.
  // Likewise the approval links exist only when approval is asked for, and only when someone is named to receive them.
  for (const { at, list, step } of parts.steps) {
    for (const { path, text } of templateStrings(step.with, [...at, 'with'])) {
      const { references } = findReferences(text);
      if (list !== 'skipped.steps' && references.some((reference) => reference.root === 'run' && reference.key === 'skipReason'))
        add(path, '{{ run.skipReason }} is only set in skipped: steps');
      if (!references.some((reference) => reference.root === 'approval')) continue;
      if (list !== 'approval.notify') add(path, '{{ approval.* }} (the approval links) is only set in approval.notify: steps');
      else if (parts.approvalLinkUser === undefined)
        add(path, '{{ approval.* }} needs approval.linkUser: the person the links are issued to');
    }
  }
};

const knownActionsWithValidParams: PlaybookRule = ({ parts, actions, add }) => {
  for (const { at, step } of parts.steps) {
    const action = actions.get(step.action);
    if (!action) {
      add([...at, 'action'], `unknown action "${step.action}" (known: ${[...actions.keys()].sort().join(', ')})`);
      continue;
    }
    for (const problem of action.checkRaw?.(step.with) ?? []) add([...at, 'with', ...problem.path], problem.message);
    const rendered = renderWithPlaceholders(step.with);
    if (rendered === undefined) continue; // unknown references are reported by knownTemplateReferences
    const result = action.schema.safeParse(rendered);
    if (result.success) continue;
    for (const issue of result.error.issues) {
      const path = issue.path.map(toPathPart);
      // A field that is one whole reference (a URL from an annotation, say) is unknown until run time; anything
      // else is checked now: a type mismatch is certain (templates render strings), and text around a
      // reference is checked with a stand-in value.
      if (issue.code !== 'invalid_type' && isWholeReferenceAt(step.with, path)) continue;
      if (issue.code === 'unrecognized_keys')
        for (const key of issue.keys) add([...at, 'with', ...path, key], `unknown key "${key}" for ${action.name}`);
      else add([...at, 'with', ...path], issue.message);
    }
  }
};

const guardQueriesParse: PlaybookRule = ({ parts, add }) => {
  for (const { at, query } of parts.guards) {
    // A label value lands inside a string literal (escaped) or as a bare token; a number stands in for either.
    const rendered = replaceReferences(query, '0');
    for (const error of parsePromql(rendered).errors) add(at, `PromQL ${error.message}`);
  }
};

const playbookRules: readonly PlaybookRule[] = [
  uniqueStepNames,
  failbackOnlyForFiring,
  knownTemplateReferences,
  knownActionsWithValidParams,
  guardQueriesParse,
];

/** Renders templates with stand-in values so the action's schema can check everything else at load time. */
function renderWithPlaceholders(value: Readonly<Record<string, unknown>>): unknown {
  const stand = 'placeholder';
  const keys = (root: string) =>
    Object.fromEntries(
      templateStrings(value)
        .flatMap(({ text }) => findReferences(text).references)
        .filter((reference) => reference.root === root)
        .map((reference) => [reference.key, stand]),
    );
  const context: TemplateContext = {
    labels: keys('labels'),
    annotations: keys('annotations'),
    alert: {
      fingerprint: stand,
      status: 'firing',
      startsAt: new Date(0).toISOString(),
      endsAt: new Date(0).toISOString(),
      generatorURL: stand,
    },
    run: { id: stand, playbook: stand, target: stand, skipReason: stand },
    approval: {
      approveUrl: 'https://remediator.example/approve/placeholder',
      rejectUrl: 'https://remediator.example/approve/placeholder',
      linkUser: stand,
      linkExpiresAt: stand,
    },
  };
  try {
    return renderValue(value, context);
  } catch {
    return undefined;
  }
}

function isWholeReferenceAt(value: unknown, path: Path): boolean {
  let node: unknown = value;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string | number, unknown>)[part];
  }
  return typeof node === 'string' && isWholeReference(node);
}
