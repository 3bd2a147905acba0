import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { primaryToConfirm } from '../../../src/actions/redis/confirm-primary.js';
import type { RedisMemberState } from '../../../src/actions/redis/member-state.js';
import { protectSchema } from '../../../src/actions/redis/protect.js';
import type { InventoryCluster, InventoryMember } from '../../../src/inventory/inventory.js';

const member = (name: string, last: number): InventoryMember => ({
  name,
  address: `10.0.0.${last}:6379`,
  host: `10.0.0.${last}`,
  port: 6379,
  priority: 0,
});
const p = member('cache-p', 16);
const q = member('cache-q', 17);
const a = member('cache-a', 1);
const b = member('cache-b', 2);
const cluster: InventoryCluster = { name: 'cache', kind: 'redis', members: [p, q, a, b] };

const gone = (of: InventoryMember): RedisMemberState => ({ member: of, reachable: false, offset: 0, connectedReplicas: 0 });
const replicaOf = (of: InventoryMember, primary: string): RedisMemberState => ({
  member: of,
  reachable: true,
  role: 'slave',
  primary,
  linkUp: false,
  offset: 0,
  connectedReplicas: 0,
});

describe('which primary redis.failover confirms dead', () => {
  test('the unreachable member the reachable replicas follow, with them as its followers', () => {
    const found = primaryToConfirm(cluster, [gone(p), gone(q), replicaOf(a, p.address), replicaOf(b, p.address)]);
    assert.ok('member' in found);
    assert.deepEqual([found.member.name, found.followers], ['cache-p', ['cache-a', 'cache-b']]);
  });

  test('a replica of an address outside the inventory, or of a reachable member (a chain), points at no primary and is left out', () => {
    const found = primaryToConfirm(cluster, [gone(p), gone(q), replicaOf(a, p.address), replicaOf(b, '10.9.9.9:6379')]);
    assert.ok('member' in found);
    assert.deepEqual([found.member.name, found.followers], ['cache-p', ['cache-a']]);
    const chained = primaryToConfirm(cluster, [gone(p), gone(q), replicaOf(a, p.address), replicaOf(b, a.address)]);
    assert.ok('member' in chained);
    assert.deepEqual(chained.followers, ['cache-a']);
  });

  test('replicas that follow different unreachable members give no primary to confirm: a split topology is for a person', () => {
    const found = primaryToConfirm(cluster, [gone(p), gone(q), replicaOf(a, p.address), replicaOf(b, q.address)]);
    assert.ok('reason' in found);
    assert.match(found.reason, /follow different members \(cache-a → cache-p; cache-b → cache-q\)/);
  });

  test('no replica that follows an unreachable member gives no primary to confirm', () => {
    const found = primaryToConfirm(cluster, [gone(p), gone(q), replicaOf(a, '10.9.9.9:6379'), gone(b)]);
    assert.ok('reason' in found);
    assert.match(found.reason, /no reachable replica follows an unreachable member of cache/);
  });
});

describe('protect: of redis.failover', () => {
  test('defaults to one replica within 10 s, may be turned off, and takes only whole seconds of lag', () => {
    assert.deepEqual(protectSchema.parse(undefined), { minReplicasToWrite: 1, maxLag: 10_000 });
    assert.equal(protectSchema.parse(false), false);
    assert.deepEqual(protectSchema.parse({ maxLag: '2s' }), { minReplicasToWrite: 1, maxLag: 2000 });
    assert.equal(protectSchema.safeParse({ maxLag: '1500ms' }).success, false);
    assert.equal(protectSchema.safeParse({ minReplicasToWrite: 0 }).success, false);
  });
});
