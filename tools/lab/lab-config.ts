import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';

const prometheusSchema = z.looseObject({
  global: z.looseObject({}).optional(),
  rule_files: z.array(z.string()).optional(),
  alerting: z.looseObject({
    alertmanagers: z.array(z.looseObject({ static_configs: z.array(z.looseObject({ targets: z.array(z.string()) })) })),
  }),
  scrape_configs: z.array(
    z.looseObject({ job_name: z.string(), static_configs: z.array(z.looseObject({ targets: z.array(z.string()) })) }),
  ),
});

const alertmanagerSchema = z.looseObject({
  route: z.looseObject({}),
  receivers: z.array(
    z.looseObject({
      name: z.string(),
      webhook_configs: z
        .array(z.looseObject({ url: z.string(), http_config: z.looseObject({ authorization: z.looseObject({}) }).optional() }))
        .optional(),
    }),
  ),
});

/** The lab's scrape and rule evaluation interval unless told otherwise: fast enough for a demo. */
export const defaultLabScrapeIntervalMs = 1000;

/** A Prometheus duration for `ms` ("1s", "15s", "1500ms"). */
const prometheusDuration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/**
 * The lab's prometheus.yml, derived from the shipped prometheus/prometheus.yml so the lab runs what users
 * deploy: same jobs and rules, loopback targets, and `scrapeIntervalMs` (default 1 s) as both the scrape and the
 * evaluation interval, so the rules' `for` counts the same number of scrapes at every interval. The scrape timeout
 * is Prometheus' default: the interval, at most 10 s.
 */
export function labPrometheusConfig(
  shipped: string,
  options: { ruleFiles: string[]; alertmanager: string; targets: Record<string, string>; scrapeIntervalMs?: number },
): string {
  const config = prometheusSchema.parse(parse(shipped));
  const interval = prometheusDuration(options.scrapeIntervalMs ?? defaultLabScrapeIntervalMs);
  config.global = { ...config.global, scrape_interval: interval, evaluation_interval: interval };
  config.rule_files = options.ruleFiles;
  config.alerting.alertmanagers = [{ static_configs: [{ targets: [options.alertmanager] }] }];
  config.scrape_configs = config.scrape_configs.map((job) => {
    const target = options.targets[job.job_name];
    if (target === undefined) throw new Error(`the lab has no target for scrape job ${job.job_name}`);
    return { ...job, static_configs: [{ targets: [target] }] };
  });
  return stringify(config);
}

/**
 * The lab's alertmanager.yml, derived from the shipped prometheus/alertmanager.yml: the same receiver and
 * grouping, with the webhook on loopback, the token file of the lab, and waits short enough for a demo.
 */
export function labAlertmanagerConfig(shipped: string, options: { webhookUrl: string; tokenFile: string }): string {
  const config = alertmanagerSchema.parse(parse(shipped));
  config.route = { ...config.route, group_wait: '0s', group_interval: '1s', repeat_interval: '1h' };
  config.receivers = config.receivers.map((receiver) => ({
    ...receiver,
    ...(receiver.webhook_configs
      ? {
          webhook_configs: receiver.webhook_configs.map((webhook) => ({
            ...webhook,
            url: options.webhookUrl,
            http_config: { authorization: { type: 'Bearer', credentials_file: options.tokenFile } },
          })),
        }
      : {}),
  }));
  return stringify(config);
}

/**
 * Writes the lab's prometheus.yml and alertmanager.yml into `dir`, derived from the project's prometheus/ and
 * every rules/*.yml: Prometheus scrapes itself, the exporter and `webhookPort` (remediator, or a stand-in that
 * records webhooks), and Alertmanager posts to `webhookPort` with the token in `dir`/webhook-token.
 */
export async function writeLabMonitoringConfigs(options: {
  root: string;
  dir: string;
  ports: { prometheus: number; alertmanager: number; exporter: number; webhook: number };
  scrapeIntervalMs?: number;
}): Promise<void> {
  const { root, dir, ports } = options;
  const ruleFiles = (await readdir(join(root, 'rules'))).filter((name) => name.endsWith('.yml')).map((name) => join(root, 'rules', name));
  await writeFile(
    join(dir, 'prometheus.yml'),
    labPrometheusConfig(await readFile(join(root, 'prometheus', 'prometheus.yml'), 'utf8'), {
      ruleFiles,
      alertmanager: `127.0.0.1:${ports.alertmanager}`,
      targets: {
        prometheus: `127.0.0.1:${ports.prometheus}`,
        remediator: `127.0.0.1:${ports.webhook}`,
        'remediator-exporter': `127.0.0.1:${ports.exporter}`,
      },
      ...(options.scrapeIntervalMs === undefined ? {} : { scrapeIntervalMs: options.scrapeIntervalMs }),
    }),
  );
  await writeFile(
    join(dir, 'alertmanager.yml'),
    labAlertmanagerConfig(await readFile(join(root, 'prometheus', 'alertmanager.yml'), 'utf8'), {
      webhookUrl: `http://127.0.0.1:${ports.webhook}/webhooks/alertmanager`,
      tokenFile: join(dir, 'webhook-token'),
    }),
  );
}
