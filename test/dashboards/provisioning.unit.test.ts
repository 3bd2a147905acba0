import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { provisionedDatasourceUid } from '../../tools/dashboards/dashboard-kit.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readYaml = async <T>(path: string): Promise<T> => parse(await readFile(join(root, path), 'utf8')) as T;

interface DatasourcesFile {
  apiVersion: number;
  datasources: { uid?: string; type: string; url: string; isDefault?: boolean }[];
}
interface ProvidersFile {
  apiVersion: number;
  providers: { name: string; type: string; folder?: string; options: { path: string } }[];
}
interface ComposeFile {
  services: Record<string, { volumes?: string[] }>;
}

/** Where the file provider reads the dashboards inside the Grafana container. */
const dashboardsPath = '/var/lib/grafana/dashboards';

describe('Grafana provisioning (grafana/provisioning)', () => {
  test('the Prometheus data source has the fixed uid the dashboards select, at the compose service', async () => {
    const file = await readYaml<DatasourcesFile>('grafana/provisioning/datasources/prometheus.yaml');
    assert.equal(file.apiVersion, 1);
    assert.equal(file.datasources.length, 1);
    assert.deepEqual(
      file.datasources.map(({ uid, type, url, isDefault }) => ({ uid, type, url, isDefault })),
      [{ uid: provisionedDatasourceUid, type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }],
    );
  });

  test('a file provider loads grafana/dashboards into the "remediator" folder', async () => {
    const file = await readYaml<ProvidersFile>('grafana/provisioning/dashboards/remediator.yaml');
    assert.equal(file.apiVersion, 1);
    assert.deepEqual(
      file.providers.map(({ type, folder, options }) => ({ type, folder, path: options.path })),
      [{ type: 'file', folder: 'remediator', path: dashboardsPath }],
    );
  });

  test('docker-compose.yml mounts the provisioning and the dashboards where the provider reads them', async () => {
    const compose = await readYaml<ComposeFile>('docker-compose.yml');
    const volumes = (compose.services.grafana?.volumes ?? []).map((volume) => volume.replace(/:ro$/, ''));
    assert.ok(volumes.includes('./grafana/provisioning:/etc/grafana/provisioning'), volumes.join(', '));
    assert.ok(volumes.includes(`./grafana/dashboards:${dashboardsPath}`), volumes.join(', '));
  });
});
