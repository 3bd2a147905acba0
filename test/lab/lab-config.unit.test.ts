import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createProgram, type CommandHandlers, type DemoCommandOptions } from '../../src/cli/program.js';
import { labAlertmanagerConfig, labPrometheusConfig } from '../../tools/lab/lab-config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const shipped = (file: string) => readFile(`${root}/prometheus/${file}`, 'utf8');
const targets = { prometheus: '127.0.0.1:1', remediator: '127.0.0.1:2', 'remediator-exporter': '127.0.0.1:3' };

describe("the lab's Prometheus and Alertmanager configs, derived from the shipped ones", () => {
  test('scrape and evaluate every second by default, and at the scrape interval given otherwise', async () => {
    const prometheusYml = await shipped('prometheus.yml');
    const global = (scrapeIntervalMs?: number) =>
      (
        parse(
          labPrometheusConfig(prometheusYml, {
            ruleFiles: [],
            alertmanager: '127.0.0.1:4',
            targets,
            ...(scrapeIntervalMs === undefined ? {} : { scrapeIntervalMs }),
          }),
        ) as { global: Record<string, string> }
      ).global;
    assert.deepEqual(global(), { scrape_interval: '1s', evaluation_interval: '1s' });
    assert.deepEqual(global(5000), { scrape_interval: '5s', evaluation_interval: '5s' });
    assert.deepEqual(global(15_000), { scrape_interval: '15s', evaluation_interval: '15s' });
    assert.deepEqual(global(1500), { scrape_interval: '1500ms', evaluation_interval: '1500ms' });
  });

  test("keep the shipped failover route (PrimaryUnreachable without a group wait) and post to the lab's webhook", async () => {
    const config = parse(
      labAlertmanagerConfig(await shipped('alertmanager.yml'), { webhookUrl: 'http://127.0.0.1:5/webhooks/alertmanager', tokenFile: '/t' }),
    ) as {
      route: { group_wait: string; routes: { matchers: string[]; group_wait: string }[] };
      receivers: { webhook_configs: { url: string }[] }[];
    };
    assert.equal(config.route.group_wait, '0s');
    assert.deepEqual(
      config.route.routes.map((route) => [route.matchers, route.group_wait]),
      [[['alertname="PrimaryUnreachable"'], '0s']],
    );
    assert.equal(config.receivers[0]?.webhook_configs[0]?.url, 'http://127.0.0.1:5/webhooks/alertmanager');
  });
});

describe('remediator demo --scrape-interval', () => {
  const demoOptions = async (args: string[]) => {
    let received: DemoCommandOptions | undefined;
    const handlers = {
      demo: (options: DemoCommandOptions) => {
        received = options;
        return Promise.resolve();
      },
    } as unknown as CommandHandlers;
    const program = createProgram(handlers, '0.0.0')
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });
    for (const command of program.commands) command.exitOverride().configureOutput({ writeErr: () => undefined });
    await program.parseAsync(['demo', ...args], { from: 'user' });
    return received;
  };

  test('is 1 s by default and takes a duration such as 5s or 15s', async () => {
    assert.equal((await demoOptions([]))?.scrapeInterval, 1000);
    assert.equal((await demoOptions(['--scrape-interval', '5s']))?.scrapeInterval, 5000);
    assert.equal((await demoOptions(['--scrape-interval', '15s']))?.scrapeInterval, 15_000);
  });

  test('refuses what is not a duration from 1s to 1m', async () => {
    for (const invalid of ['5', 'fast', '500ms', '2m'])
      await assert.rejects(demoOptions(['--scrape-interval', invalid]), /from 1s to 1m/, invalid);
  });
});
