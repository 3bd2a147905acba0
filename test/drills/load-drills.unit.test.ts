import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadDrills, parseDrillsSource } from '../../src/drills/load-drills.js';
import type { Inventory, InventoryCluster } from '../../src/inventory/inventory.js';
import { formatProblem } from '../../src/sources/index.js';

const cluster = (name: string, kind: InventoryCluster['kind']): InventoryCluster => ({
  name,
  kind,
  members: [{ name: `${name}-a`, address: '127.0.0.1:6379', host: '127.0.0.1', port: 6379, priority: 0 }],
});
const inventory: Inventory = {
  file: 'remediations/inventory.yaml',
  clusters: new Map([
    ['cache', cluster('cache', 'redis')],
    ['orders', cluster('orders', 'postgres')],
    ['web', cluster('web', 'http')],
  ]),
};
const now = Date.parse('2026-12-03T12:00:00Z');
const file = 'remediations/drills.yaml';

function problems(text: string, inv: Inventory | undefined = inventory): string[] {
  const result = parseDrillsSource(file, text, inv, now);
  assert.ok(!result.success, 'expected problems');
  return result.problems.map(formatProblem);
}

describe('loading remediations/drills.yaml', () => {
  test('a valid file gives each drill normalized, the period defaulting to twice the longest interval of its schedule', () => {
    const result = parseDrillsSource(
      file,
      `drills:
  - name: cache-weekly
    cluster: cache
    schedule: '0 3 * * 2'
    timezone: Europe/Paris
    kind: switchover
    window: 2h
  - name: orders-monthly
    cluster: orders
    schedule: '30 4 1 * *'
    kind: failover
    window: 30m
    period: 70d
`,
      inventory,
      now,
    );
    assert.ok(result.success, result.success ? '' : result.problems.map(formatProblem).join('\n'));
    assert.deepEqual(result.drills, [
      {
        name: 'cache-weekly',
        cluster: 'cache',
        clusterKind: 'redis',
        kind: 'switchover',
        schedule: '0 3 * * 2',
        timezone: 'Europe/Paris',
        windowMs: 2 * 3_600_000,
        periodMs: 14 * 86_400_000,
      },
      {
        name: 'orders-monthly',
        cluster: 'orders',
        clusterKind: 'postgres',
        kind: 'failover',
        schedule: '30 4 1 * *',
        timezone: 'UTC',
        windowMs: 30 * 60_000,
        periodMs: 70 * 86_400_000,
      },
    ]);
  });

  test('every problem is listed at once, each with the file, the line and the path of its value', () => {
    const text = `drills:
  - name: cache-weekly
    cluster: cache
    schedule: '0 3 * * 2'
    kind: switchover
    window: 2h
  - name: cache-weekly
    cluster: nowhere
    schedule: '0 3 * * 3'
    kind: switchover
    window: 1h
  - name: web-drill
    cluster: web
    schedule: '0 3 * * 4'
    kind: failover
    window: 1h
  - name: typo
    cluster: cache
    schedule: 'at three'
    kind: planned
    window: soon
    windw: 1h
  - name: zone
    cluster: cache
    schedule: '0 3 * * 5'
    timezone: Europe/Atlantis
    kind: switchover
    window: 1h
`;
    assert.deepEqual(problems(text), [
      'remediations/drills.yaml:7: drills[1].name: drill "cache-weekly" is already defined at drills[0]',
      'remediations/drills.yaml:8: drills[1].cluster: cluster "nowhere" is not in the inventory (known: cache, orders, web)',
      'remediations/drills.yaml:13: drills[2].cluster: cluster "web" is of kind http: drills exercise redis and postgres clusters',
      'remediations/drills.yaml:20: drills[3].kind: Invalid option: expected one of "switchover"|"failover"',
      'remediations/drills.yaml:21: drills[3].window: "soon" is not a duration (use e.g. 500ms, 30s, 2m, 1h)',
      'remediations/drills.yaml:22: drills[3].windw: unknown key "windw"',
      'remediations/drills.yaml:26: drills[4].timezone: unknown time zone "Europe/Atlantis" (an IANA name such as Europe/Paris, or UTC)',
    ]);
  });

  test('a schedule that is not cron is reported at its line', () => {
    const [problem] = problems(`drills:
  - name: nightly
    cluster: cache
    schedule: 'at three'
    kind: switchover
    window: 1h
`);
    assert.match(problem ?? '', /^remediations\/drills\.yaml:4: drills\[0\]\.schedule: not a cron schedule: /);
  });

  test('a window longer than the schedule interval and a period the schedule cannot keep are refused with the numbers', () => {
    assert.deepEqual(
      problems(`drills:
  - name: hourly
    cluster: cache
    schedule: '0 * * * *'
    kind: switchover
    window: 2h
    period: 1h
`),
      [
        'remediations/drills.yaml:6: drills[0].window: 2h is longer than the shortest interval of the schedule (1h): windows would overlap',
        'remediations/drills.yaml:7: drills[0].period: 1h is not longer than the longest interval of the schedule (1h): the overdue alert would fire between two successful drills',
      ],
    );
  });

  test('a file that is not a list of drills says so at its key', () => {
    assert.deepEqual(problems('drill: []\n'), [
      'remediations/drills.yaml:1: drills: Invalid input: expected array, received undefined',
      'remediations/drills.yaml:1: drill: unknown key "drill"',
    ]);
  });

  test('without an inventory that loaded, the clusters are not checked (its own problems are reported)', () => {
    const result = parseDrillsSource(
      file,
      `drills:\n  - { name: a, cluster: cache, schedule: '0 3 * * *', kind: switchover, window: 1h }\n`,
      undefined,
      now,
    );
    assert.deepEqual(result, { success: true, drills: [] });
  });

  test('a missing drills file is no drills', async () => {
    assert.deepEqual(await loadDrills(join(import.meta.dirname, 'no-such-drills.yaml'), { inventory }), { success: true, drills: [] });
  });
});
