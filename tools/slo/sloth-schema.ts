import { z } from 'zod';

/**
 * Sloth's SLO specs (https://sloth.dev), as its Go types declare them (pkg/prometheus/api/v1 and
 * pkg/kubernetes/api/sloth/v1): `version: prometheus/v1` with snake_case keys, and the Kubernetes
 * `PrometheusServiceLevel` with camelCase ones. Strict: an unknown key is a problem with its path.
 */

/** Sloth's names (service, SLO): conventions.NameRegexp. */
const slothNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$/, "letters, digits, '.', '_' and '-', starting and ending with a letter or digit");

const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name (letters, digits and _, not starting with a digit)');

/** Labels of an SLO: on every recorded series. The generator's own sloth_* labels cannot be set. */
const sloLabelsSchema = z.record(
  labelName.refine((key) => !key.startsWith('sloth_'), 'sloth_* labels are set by the generator; choose another label name'),
  z.string(),
);

/** Labels and annotations of an alert: any label name, string values (Go's map[string]string). */
const alertLabelsSchema = z.record(labelName, z.string());
const annotationsSchema = z.record(z.string().min(1), z.string());

/** The objective in percent, at most 4 decimals, so the budget is exact in decimal (as in rules/slos.yaml). */
const objectiveSchema = z
  .number()
  .gt(0, 'a percentage above 0')
  .lt(100, 'a percentage below 100 (an SLO of 100 % has no error budget)')
  .refine((objective) => Math.abs(Math.round(objective * 1e4) - objective * 1e4) < 1e-6, 'at most 4 decimals');

/** The key spellings that differ between the two forms. */
interface Keys {
  readonly errorRatioQuery: string;
  readonly errorQuery: string;
  readonly totalQuery: string;
  readonly pageAlert: string;
  readonly ticketAlert: string;
  readonly sloPlugins: string;
}

/** prometheus/v1 keys. */
export const prometheusKeys: Keys = {
  errorRatioQuery: 'error_ratio_query',
  errorQuery: 'error_query',
  totalQuery: 'total_query',
  pageAlert: 'page_alert',
  ticketAlert: 'ticket_alert',
  sloPlugins: 'slo_plugins',
};

/** PrometheusServiceLevel (Kubernetes) keys. */
export const kubernetesKeys: Keys = {
  errorRatioQuery: 'errorRatioQuery',
  errorQuery: 'errorQuery',
  totalQuery: 'totalQuery',
  pageAlert: 'pageAlert',
  ticketAlert: 'ticketAlert',
  sloPlugins: 'sloPlugins',
};

/** SLO plugins are read only to report them: remediator has no plugin engine. */
const sloPluginsSchema = z.unknown();

function serviceSchema(keys: Keys) {
  const alertSchema = z.strictObject({
    disable: z.boolean().optional(),
    labels: alertLabelsSchema.optional(),
    annotations: annotationsSchema.optional(),
  });
  const sloSchema = z.strictObject({
    name: slothNameSchema,
    description: z.string().optional(),
    objective: objectiveSchema,
    plugins: sloPluginsSchema.optional(),
    labels: sloLabelsSchema.optional(),
    sli: z.strictObject({
      raw: z.strictObject({ [keys.errorRatioQuery]: z.string().min(1, 'the PromQL of the error ratio') }).optional(),
      events: z
        .strictObject({
          [keys.errorQuery]: z.string().min(1, 'the PromQL of the bad events'),
          [keys.totalQuery]: z.string().min(1, 'the PromQL of all events'),
        })
        .optional(),
      plugin: z.strictObject({ id: z.string().min(1), options: z.record(z.string(), z.string()).optional() }).optional(),
    }),
    alerting: z
      .strictObject({
        name: z.string().optional(),
        labels: alertLabelsSchema.optional(),
        annotations: annotationsSchema.optional(),
        [keys.pageAlert]: alertSchema.optional(),
        [keys.ticketAlert]: alertSchema.optional(),
      })
      .optional(),
  });
  return z.strictObject({
    service: slothNameSchema,
    labels: sloLabelsSchema.optional(),
    [keys.sloPlugins]: sloPluginsSchema.optional(),
    slos: z.array(sloSchema).min(1, 'at least one SLO is required'),
  });
}

/** A `version: prometheus/v1` document. */
export const prometheusSpecSchema = serviceSchema(prometheusKeys)
  .extend({ version: z.literal('prometheus/v1') })
  .strict();

/** A `kind: PrometheusServiceLevel` document; metadata and status are Kubernetes' and not checked key by key. */
export const kubernetesSpecSchema = z.strictObject({
  apiVersion: z.literal('sloth.slok.dev/v1'),
  kind: z.literal('PrometheusServiceLevel'),
  metadata: z.looseObject({ name: z.string().optional() }).optional(),
  spec: serviceSchema(kubernetesKeys),
  status: z.unknown().optional(),
});

/** An alert block (page or ticket) of either form. */
export interface SlothAlertInput {
  readonly disable?: boolean | undefined;
  readonly labels?: Record<string, string> | undefined;
  readonly annotations?: Record<string, string> | undefined;
}

/** One SLO of either form; the keys that differ are read through the form's `Keys`. */
export interface SlothSloInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly objective: number;
  readonly plugins?: unknown;
  readonly labels?: Record<string, string> | undefined;
  readonly sli: {
    readonly raw?: Record<string, string> | undefined;
    readonly events?: Record<string, string> | undefined;
    readonly plugin?: { readonly id: string; readonly options?: Record<string, string> | undefined } | undefined;
  };
  readonly alerting?:
    | ({
        readonly name?: string | undefined;
        readonly labels?: Record<string, string> | undefined;
        readonly annotations?: Record<string, string> | undefined;
      } & Readonly<Record<string, unknown>>)
    | undefined;
}

/**
 * One service of either form. The schemas are built from the form's key spellings, which zod types as any
 * string; this is their output with the keys both forms share spelled out.
 */
export interface SlothService {
  readonly service: string;
  readonly labels?: Record<string, string> | undefined;
  readonly slos: readonly SlothSloInput[];
  readonly [key: string]: unknown;
}
