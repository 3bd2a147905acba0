import { readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readYamlDocuments, type SourceDocument, type SourceProblem } from '../../src/sources/index.js';
import type { AlertWindows } from './burn-rate-windows.js';
import { parseSlosDocument } from './load-slos.js';
import { parseSlothDocument, type SlothForm, type SlothOptions } from './load-sloth-spec.js';
import type { SloDefinitions, SloIndicator, SloSpec } from './slo.js';
import { yamlFilesUnder } from './yaml-files.js';

/** An input as given (a file or a directory): where it is, and how messages name it. */
export interface SloInput {
  readonly path: string;
  readonly display: string;
}

/** The SLOs of every input, with the files they were read from; or every problem in them. */
export type LoadSloInputsResult =
  { success: true; definitions: SloDefinitions; files: string[] } | { success: false; problems: SourceProblem[] };

/** What a document is, from its top-level keys (Sloth tells its forms apart the same way: per document). */
type DocumentKind = { kind: 'remediator' } | { kind: 'sloth'; form: SlothForm } | { kind: 'unknown'; message: string };

function kindOf(value: unknown): DocumentKind {
  const doc = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if ('version' in doc)
    return doc.version === 'prometheus/v1'
      ? { kind: 'sloth', form: 'prometheus/v1' }
      : { kind: 'unknown', message: `version ${JSON.stringify(doc.version)}: the Sloth spec version read is prometheus/v1` };
  if (doc.apiVersion === 'sloth.slok.dev/v1' && doc.kind === 'PrometheusServiceLevel') return { kind: 'sloth', form: 'kubernetes' };
  if (doc.kind === 'AlertWindows')
    return { kind: 'unknown', message: 'an AlertWindows spec: put it in a directory and pass that with --slo-period-windows-path' };
  if ('apiVersion' in doc || 'kind' in doc)
    return {
      kind: 'unknown',
      message: `apiVersion ${JSON.stringify(doc.apiVersion)}, kind ${JSON.stringify(doc.kind)}: the kind read is sloth.slok.dev/v1 PrometheusServiceLevel`,
    };
  if ('services' in doc || 'indicators' in doc) return { kind: 'remediator' };
  return {
    kind: 'unknown',
    message:
      'not an SLO spec: expected `version: prometheus/v1` (Sloth), `kind: PrometheusServiceLevel` (Sloth on Kubernetes) or `services:` (rules/slos.yaml)',
  };
}

/** The files of an input: the file itself, or every .yaml/.yml file under a directory, sorted (as Sloth's -i). */
async function filesOf(input: SloInput): Promise<SloInput[] | SourceProblem> {
  try {
    if (!(await stat(input.path)).isDirectory()) return [input];
    const files = (await yamlFilesUnder(input.path)).map((path) => ({
      path,
      display: join(input.display, relative(input.path, path)).split(sep).join('/'),
    }));
    return files.length > 0 ? files : { file: input.display, message: 'no SLO spec (.yaml or .yml) in the directory' };
  } catch (error) {
    return { file: input.display, message: `cannot read the SLO spec (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

interface Loaded {
  readonly indicators: SloIndicator[];
  readonly slos: { slo: SloSpec; file: string }[];
}

function loadDocument(document: SourceDocument, options: SlothOptions, into: Loaded): SourceProblem[] {
  const kind = kindOf(document.value);
  if (kind.kind === 'unknown') return [{ file: document.file, message: kind.message, ...lineOf(document) }];
  if (kind.kind === 'sloth') {
    const loaded = parseSlothDocument(document, kind.form, options);
    if (!loaded.success) return loaded.problems;
    into.slos.push(...loaded.slos.map((slo) => ({ slo, file: document.file })));
    return [];
  }
  const loaded = parseSlosDocument(document, { catalog: options.catalog, extraLabels: options.extraLabels });
  if (!loaded.success) return loaded.problems;
  into.indicators.push(...loaded.definitions.indicators);
  into.slos.push(...loaded.definitions.slos.map((slo) => ({ slo, file: document.file })));
  return [];
}

const lineOf = (document: SourceDocument): { line?: number } => {
  const line = document.position([])?.line;
  return line === undefined ? {} : { line };
};

/**
 * Reads every input (files, or directories of them), each document of each file on its own: rules/slos.yaml's
 * format, Sloth's prometheus/v1 and its Kubernetes PrometheusServiceLevel. SLOs keep the order they are read in.
 */
export async function loadSloInputs(
  inputs: readonly SloInput[],
  options: { catalog: readonly AlertWindows[]; defaultPeriodMs: number; extraLabels: Readonly<Record<string, string>> },
): Promise<LoadSloInputsResult> {
  const problems: SourceProblem[] = [];
  const loaded: Loaded = { indicators: [], slos: [] };
  const files: string[] = [];
  for (const input of inputs) {
    const found = await filesOf(input);
    if (!Array.isArray(found)) {
      problems.push(found);
      continue;
    }
    for (const file of found) {
      files.push(file.display);
      const read = readYamlDocuments(file.display, await readFile(file.path, 'utf8'));
      if (!read.success) {
        problems.push(...read.problems);
        continue;
      }
      // An empty document (a trailing `---`, or comments only) is skipped, as Sloth's SplitYAML skips it.
      const documents = read.documents.filter((document) => document.value !== null && document.value !== undefined);
      if (documents.length === 0) problems.push({ file: file.display, message: 'empty file' });
      for (const document of documents) problems.push(...loadDocument(document, options, loaded));
    }
  }
  const seen = new Map<string, string>();
  for (const { slo, file } of loaded.slos) {
    const earlier = seen.get(slo.id);
    // Two SLOs with one sloth_id would write the same series and the same group names.
    if (earlier !== undefined)
      problems.push({ file, message: `sloth_id "${slo.id}" (service ${slo.service}, SLO ${slo.name}) is also generated from ${earlier}` });
    seen.set(slo.id, file);
  }
  if (problems.length > 0) return { success: false, problems };
  return { success: true, definitions: { indicators: loaded.indicators, slos: loaded.slos.map(({ slo }) => slo) }, files };
}
