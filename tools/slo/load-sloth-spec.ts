import { createProblemList, sortByLine, type SourceDocument, type SourcePath, type SourceProblem } from '../../src/sources/index.js';
import {
  alertWindowsFor,
  missingWindowsMessage,
  periodText,
  periodWindow,
  severities,
  unreachableAlert,
  type AlertWindows,
  type Severity,
} from './burn-rate-windows.js';
import { checkQuery, exactRatios, withKeyMessages } from './load-slos.js';
import { msPerDay } from './prom-duration.js';
import type { SliQueries, SloSpec, SlothAlert } from './slo.js';
import {
  kubernetesKeys,
  kubernetesSpecSchema,
  prometheusKeys,
  prometheusSpecSchema,
  type SlothAlertInput,
  type SlothService,
  type SlothSloInput,
} from './sloth-schema.js';

/** The two forms of a Sloth spec: `version: prometheus/v1`, and Kubernetes' `kind: PrometheusServiceLevel`. */
export type SlothForm = 'prometheus/v1' | 'kubernetes';

/** What a Sloth spec needs besides itself: Sloth's generator flags that change the output. */
export interface SlothOptions {
  /** The burn-rate tables (Sloth's built-in ones, or a `--slo-period-windows-path` directory's). */
  readonly catalog: readonly AlertWindows[];
  /** Sloth's `--default-slo-period` (its specs have no period of their own). */
  readonly defaultPeriodMs: number;
  /** Sloth's `--extra-labels`: on every recorded series, over the spec's labels. */
  readonly extraLabels: Readonly<Record<string, string>>;
}

/** The SLOs of one Sloth document, or its problems. */
export type LoadSlothResult = { success: true; slos: SloSpec[] } | { success: false; problems: SourceProblem[] };

/** What sloth_slo_info says about the generation (Sloth's sloth_mode, sloth_spec, sloth_version). */
const infoLabels: Record<SlothForm, Record<string, string>> = {
  'prometheus/v1': { sloth_mode: 'cli-gen-prom', sloth_spec: 'prometheus/v1', sloth_version: 'remediator' },
  kubernetes: { sloth_mode: 'cli-gen-k8s', sloth_spec: 'sloth.slok.dev/v1', sloth_version: 'remediator' },
};

type Slo = SlothSloInput;
type Alerting = NonNullable<Slo['alerting']>;

const keysOf = (form: SlothForm) => (form === 'kubernetes' ? kubernetesKeys : prometheusKeys);

/** The page or ticket block of `alerting`, by its form's key. */
function alertSpec(alerting: Alerting | undefined, form: SlothForm, severity: Severity): SlothAlertInput | undefined {
  const keys = keysOf(form);
  return alerting?.[severity === 'page' ? keys.pageAlert : keys.ticketAlert] as SlothAlertInput | undefined;
}

const enabledSeverities = (slo: Slo, form: SlothForm): Severity[] =>
  severities.filter((severity) => alertSpec(slo.alerting, form, severity)?.disable !== true);

/** A query of the SLI by its form's key. */
const query = (block: Record<string, string> | undefined, key: string): string | undefined => block?.[key];

/** Reads one Sloth document of `form` (detected by the caller). */
export function parseSlothDocument(document: SourceDocument, form: SlothForm, options: SlothOptions): LoadSlothResult {
  const { problems, add, addIssues } = createProblemList(document);
  const parsed = (form === 'kubernetes' ? kubernetesSpecSchema : prometheusSpecSchema).safeParse(document.value);
  if (!parsed.success) {
    addIssues(parsed.error.issues.map(withKeyMessages));
    return { success: false, problems: sortByLine(problems) };
  }
  const prefix: SourcePath = form === 'kubernetes' ? ['spec'] : [];
  const service = ('spec' in parsed.data ? parsed.data.spec : parsed.data) as SlothService;
  const keys = keysOf(form);
  const windows = alertWindowsFor(options.defaultPeriodMs, options.catalog);
  if (service[keys.sloPlugins] !== undefined)
    add(
      [...prefix, keys.sloPlugins],
      "SLO plugins are not supported by remediator slo generate (it generates what Sloth's default plugins do); remove them",
    );
  service.slos.forEach((slo, i) => {
    const at = [...prefix, 'slos', i];
    checkSlo(slo, at, { form, add, windows, service: service.service, options });
  });
  if (problems.length > 0 || windows === undefined) return { success: false, problems: sortByLine(problems) };
  return { success: true, slos: service.slos.map((slo) => normalise(service, slo, form, windows, options.extraLabels)) };
}

interface CheckContext {
  readonly form: SlothForm;
  readonly add: (path: SourcePath, message: string) => void;
  readonly windows: AlertWindows | undefined;
  readonly service: string;
  readonly options: SlothOptions;
}

/** Sloth's validation (pkg/common/validation/slo.go) and remediator's checks of the queries and factors. */
function checkSlo(slo: Slo, at: SourcePath, { form, add, windows, service, options }: CheckContext): void {
  const keys = keysOf(form);
  const { raw, events, plugin } = slo.sli;
  const kinds = [raw, events, plugin].filter((kind) => kind !== undefined).length;
  if (kinds === 0) add([...at, 'sli'], 'give the SLI as events (error and total queries) or raw (an error ratio query)');
  if (kinds > 1) add([...at, 'sli'], 'only one SLI type is allowed: events, raw or plugin');
  if (plugin !== undefined)
    add(
      [...at, 'sli', 'plugin', 'id'],
      `SLI plugin "${plugin.id}" cannot be expanded: Sloth loads SLI plugins as Go code from a plugins directory, which remediator does not run; ` +
        `write the query the plugin makes as sli.events or sli.raw instead`,
    );
  if (slo.plugins !== undefined) add([...at, 'plugins'], 'SLO plugins are not supported by remediator slo generate; remove them');
  if (events !== undefined) {
    const errorQuery = query(events, keys.errorQuery) ?? '';
    const totalQuery = query(events, keys.totalQuery) ?? '';
    if (errorQuery === totalQuery) add([...at, 'sli', 'events'], "the error and total queries can't be the same");
    checkQuery(errorQuery, [...at, 'sli', 'events', keys.errorQuery], add, { window: true });
    checkQuery(totalQuery, [...at, 'sli', 'events', keys.totalQuery], add, { window: true });
  }
  if (raw !== undefined)
    checkQuery(query(raw, keys.errorRatioQuery) ?? '', [...at, 'sli', 'raw', keys.errorRatioQuery], add, { window: true });
  const enabled = enabledSeverities(slo, form);
  if (enabled.length > 0 && (slo.alerting?.name ?? '') === '')
    add(
      slo.alerting === undefined ? at : [...at, 'alerting'],
      `alerting.name is required unless both alerts are disabled (${enabled.join(' and ')} enabled)`,
    );
  if (windows === undefined) {
    add([...at, 'name'], missingWindowsMessage(`${service}/${slo.name}`, options.defaultPeriodMs, options.catalog));
    return;
  }
  const unreachable = unreachableAlert(exactRatios(slo.objective).errorBudget, windows, enabled);
  if (unreachable !== undefined)
    add([...at, 'objective'], `an objective of ${slo.objective} % over ${periodText(windows.sloPeriodMs)} ${unreachable}`);
}

function sliOf(slo: Slo, form: SlothForm): SliQueries {
  const keys = keysOf(form);
  if (slo.sli.raw !== undefined) return { kind: 'raw', errorRatioQuery: query(slo.sli.raw, keys.errorRatioQuery) ?? '' };
  return {
    kind: 'errors',
    errorQuery: query(slo.sli.events, keys.errorQuery) ?? '',
    totalQuery: query(slo.sli.events, keys.totalQuery) ?? '',
  };
}

/** The alerts of an SLO as Sloth's spec loader merges them (internal/storage/io/sloth.go). */
function alertsOf(slo: Slo, form: SlothForm): Partial<Record<Severity, SlothAlert>> {
  const alerts: Partial<Record<Severity, SlothAlert>> = {};
  for (const severity of enabledSeverities(slo, form)) {
    const own = alertSpec(slo.alerting, form, severity);
    alerts[severity] = {
      name: slo.alerting?.name ?? '',
      labels: { ...slo.alerting?.labels, ...own?.labels },
      annotations: { ...slo.alerting?.annotations, ...own?.annotations },
    };
  }
  return alerts;
}

function normalise(
  service: SlothService,
  slo: Slo,
  form: SlothForm,
  windows: AlertWindows,
  extraLabels: Readonly<Record<string, string>>,
): SloSpec {
  return {
    id: `${service.service}-${slo.name}`,
    service: service.service,
    name: slo.name,
    objective: slo.objective,
    ...exactRatios(slo.objective),
    window: periodWindow(windows),
    windowDays: windows.sloPeriodMs / msPerDay,
    description: slo.description?.trim(),
    labels: { ...service.labels, ...slo.labels, ...extraLabels },
    sli: sliOf(slo, form),
    windows,
    alerting: { style: 'sloth', alerts: alertsOf(slo, form) },
    infoLabels: infoLabels[form],
  };
}
