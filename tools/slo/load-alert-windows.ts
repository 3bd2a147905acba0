import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createProblemList, readYamlDocuments, sortByLine, type SourceProblem } from '../../src/sources/index.js';
import { alertWindowsFileSchema, type AlertWindowsFile } from './alert-windows-schema.js';
import { periodText, severities, type AlertWindow, type AlertWindows } from './burn-rate-windows.js';
import { formatPromDuration, parsePromDuration } from './prom-duration.js';
import { yamlFilesUnder } from './yaml-files.js';

/** Every AlertWindows table of a directory, or every problem in it. */
export type LoadAlertWindowsResult = { success: true; windows: AlertWindows[] } | { success: false; problems: SourceProblem[] };

/** A window with its durations as Prometheus prints them (`24h` → `1d`), since they name the recorded series. */
function normaliseWindow(input: AlertWindowsFile['spec']['page']['quick']): AlertWindow {
  const print = (text: string) => formatPromDuration(parsePromDuration(text) ?? 0);
  return { errorBudgetPercent: input.errorBudgetPercent, shortWindow: print(input.shortWindow), longWindow: print(input.longWindow) };
}

/** Reads and validates one AlertWindows file's text; `file` is how problems name it. */
export function parseAlertWindowsSource(file: string, text: string): LoadAlertWindowsResult {
  const read = readYamlDocuments(file, text);
  if (!read.success) return read;
  // Empty documents (a trailing `---`) are skipped, as for SLO specs; one table per file, as Sloth reads them.
  const documents = read.documents.filter((doc) => doc.value !== null && doc.value !== undefined);
  const [document] = documents;
  if (document === undefined || documents.length > 1)
    return {
      success: false,
      problems: [
        { file, message: document === undefined ? 'empty file' : 'one AlertWindows spec per file (found several YAML documents)' },
      ],
    };
  const { problems, add, addIssues } = createProblemList(document);
  const parsed = alertWindowsFileSchema.safeParse(document.value);
  if (!parsed.success) {
    addIssues(parsed.error.issues);
    return { success: false, problems: sortByLine(problems) };
  }
  const { spec } = parsed.data;
  for (const severity of severities) {
    for (const speed of ['quick', 'slow'] as const) {
      const { shortWindow, longWindow } = spec[severity][speed];
      if ((parsePromDuration(shortWindow) ?? 0) >= (parsePromDuration(longWindow) ?? 0))
        add(
          ['spec', severity, speed, 'shortWindow'],
          `must be shorter than longWindow (${longWindow}): it only tells that the burn goes on now`,
        );
    }
  }
  if (problems.length > 0) return { success: false, problems: sortByLine(problems) };
  return {
    success: true,
    windows: [
      {
        sloPeriodMs: parsePromDuration(spec.sloPeriod) ?? 0,
        page: { quick: normaliseWindow(spec.page.quick), slow: normaliseWindow(spec.page.slow) },
        ticket: { quick: normaliseWindow(spec.ticket.quick), slow: normaliseWindow(spec.ticket.slow) },
        source: file,
      },
    ],
  };
}

const sameTable = (a: AlertWindows, b: AlertWindows) => JSON.stringify({ ...a, source: '' }) === JSON.stringify({ ...b, source: '' });

/**
 * Every AlertWindows file under `dir` (Sloth's `--slo-period-windows-path`): like Sloth, they replace the built-in
 * tables, and two files for one period must be identical. `display` is how problems name the directory.
 */
export async function loadAlertWindowsDir(dir: string, display: string): Promise<LoadAlertWindowsResult> {
  let files: string[];
  try {
    files = await yamlFilesUnder(dir);
  } catch (error) {
    return {
      success: false,
      problems: [
        { file: display, message: `cannot read the AlertWindows directory (${(error as NodeJS.ErrnoException).code ?? 'error'})` },
      ],
    };
  }
  if (files.length === 0)
    return { success: false, problems: [{ file: display, message: 'no AlertWindows file (.yaml or .yml) in the directory' }] };
  const problems: SourceProblem[] = [];
  const windows: AlertWindows[] = [];
  for (const path of files) {
    const file = join(display, relative(dir, path)).split(sep).join('/');
    const loaded = parseAlertWindowsSource(file, await readFile(path, 'utf8'));
    if (!loaded.success) {
      problems.push(...loaded.problems);
      continue;
    }
    for (const table of loaded.windows) {
      const earlier = windows.find((other) => other.sloPeriodMs === table.sloPeriodMs);
      if (earlier === undefined) windows.push(table);
      else if (!sameTable(earlier, table))
        problems.push({
          file,
          message: `a different table for the ${periodText(table.sloPeriodMs)} period is already in ${earlier.source}`,
        });
    }
  }
  return problems.length > 0 ? { success: false, problems } : { success: true, windows };
}
