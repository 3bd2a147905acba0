import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the shipped Prometheus and Alertmanager configuration', () => {
  test('promtool accepts every rule file in rules/', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'rules/remediator.rules.yml'], { cwd: root });
    assert.match(stdout, /SUCCESS: \d+ rules found/);
  });

  test('promtool accepts prometheus/prometheus.yml', async () => {
    const { stdout, stderr } = await run('promtool', ['check', 'config', '--syntax-only', 'prometheus/prometheus.yml'], { cwd: root });
    assert.match(stdout + stderr, /SUCCESS/);
  });

  test('amtool accepts prometheus/alertmanager.yml and it routes to the remediator webhook with send_resolved', async () => {
    const { stdout } = await run('amtool', ['check-config', 'prometheus/alertmanager.yml'], { cwd: root });
    assert.match(stdout, /SUCCESS/);
    assert.match(stdout, /1 receivers/);
    const config = parse(await readFile(join(root, 'prometheus/alertmanager.yml'), 'utf8')) as {
      receivers: { webhook_configs: { url: string; send_resolved: boolean; http_config: { authorization: { credentials_file?: string; credentials?: string } } }[] }[];
    };
    const webhook = config.receivers[0]?.webhook_configs[0];
    assert.ok(webhook, 'a webhook receiver');
    assert.match(webhook.url, /\/webhooks\/alertmanager$/);
    assert.equal(webhook.send_resolved, true);
    assert.ok(webhook.http_config.authorization.credentials_file, 'the token comes from a file');
    assert.equal(webhook.http_config.authorization.credentials, undefined, 'no inline token');
  });
});
