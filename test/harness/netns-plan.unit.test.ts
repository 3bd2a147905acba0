import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as plan from '../../tools/harness/netns-plan.js';

/** A `random` that returns `values` in turn. */
const sequence = (...values: number[]) => {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
};

describe('the partition harness plan', () => {
  test('a namespace is named after the pid that made it, and only dead pids make a namespace stale', () => {
    assert.equal(plan.namespaceName(4242, 3), 'rmd4242x3');
    const stale = plan.staleNamespaces(['rmd1x0', 'rmd2x5', 'rmd1x1', 'other', 'rmdx1', 'rmd3x0 (id: 4)'], (pid) => pid === 2);
    assert.deepEqual(stale, ['rmd1x0', 'rmd1x1']);
  });

  test('a CIDR covers the addresses of its prefix', () => {
    assert.deepEqual(plan.cidrRange('10.0.0.0/8'), [167_772_160, 184_549_375]);
    assert.deepEqual(plan.cidrRange('10.64.3.77/24'), [171_967_232, 171_967_487]);
    assert.throws(() => plan.cidrRange('10.0.0/8'), /not an IPv4 address/);
    assert.throws(() => plan.cidrRange('10.0.0.0/33'), /not a prefix length/);
  });

  test('the subnet is a 10.x.y.0/24 clear of every host route, skipping the ones in the way', () => {
    // 0 → 10.64.0.0/24 (taken by the /16 below), 0.5 → 10.159.128.0/24 (taken by a host route), then 10.254.255.0/24.
    const subnet = plan.chooseSubnet(
      ['default', '10.64.0.0/16', '10.159.128.7', '192.168.1.0/24'],
      sequence(0, 0, 0.5, 0.5, 0.9999, 0.9999),
    );
    assert.equal(subnet, '10.254.255.0/24');
    assert.equal(plan.chooseSubnet(['0.0.0.0/0', '172.17.0.0/16'], sequence(0.5)), '10.159.128.0/24', 'a default route blocks nothing');
  });

  test('the subnet choice gives up with the routes in its way when 10/8 is taken', () => {
    assert.throws(
      () => plan.chooseSubnet(['10.0.0.0/8'], Math.random, 5),
      /no free 10\.x\.y\.0\/24 after 5 tries: the host routes 10\.0\.0\.0\/8/,
    );
  });

  test('a node address is a host of the /24, from .1 to .254', () => {
    assert.equal(plan.hostAddress('10.70.3.0/24', 1), '10.70.3.1');
    assert.equal(plan.hostAddress('10.70.3.0/24', 254), '10.70.3.254');
    assert.throws(() => plan.hostAddress('10.70.3.0/24', 255), /outside a \/24/);
  });

  test('a cut drops both directions, an isolation the whole interface, a loss a random share', () => {
    assert.deepEqual(
      plan.cutRules('10.70.3.2').map((rule) => plan.ruleArgs('-A', rule)),
      [
        ['-w', '-t', 'filter', '-A', 'INPUT', '-s', '10.70.3.2', '-j', 'DROP'],
        ['-w', '-t', 'filter', '-A', 'OUTPUT', '-d', '10.70.3.2', '-j', 'DROP'],
      ],
    );
    assert.deepEqual(
      plan.isolateRules('eth0').map((rule) => plan.ruleArgs('-D', rule)),
      [
        ['-w', '-t', 'filter', '-D', 'INPUT', '-i', 'eth0', '-j', 'DROP'],
        ['-w', '-t', 'filter', '-D', 'OUTPUT', '-o', 'eth0', '-j', 'DROP'],
      ],
    );
    assert.deepEqual(
      plan.lossRules('10.70.3.1', 0.3).map((rule) => rule.spec.join(' ')),
      [
        '-s 10.70.3.1 -m statistic --mode random --probability 0.3 -j DROP',
        '-d 10.70.3.1 -m statistic --mode random --probability 0.3 -j DROP',
      ],
    );
    assert.throws(() => plan.lossRules('10.70.3.1', 0), /a loss probability is in \(0, 1\]/);
    assert.throws(() => plan.lossRules('10.70.3.1', 1.5), /a loss probability is in \(0, 1\]/);
  });

  test('a delay sends new connections from the peer to the proxy and resets the ones that bypass it', () => {
    assert.deepEqual(plan.delayRules({ peer: '10.70.3.1', self: '10.70.3.2', port: 6379, proxyPort: 47000 }), [
      {
        table: 'nat',
        chain: 'PREROUTING',
        spec: ['-s', '10.70.3.1', '-d', '10.70.3.2', '-p', 'tcp', '--dport', '6379', '-j', 'DNAT', '--to-destination', '10.70.3.2:47000'],
      },
      {
        table: 'filter',
        chain: 'INPUT',
        spec: ['-s', '10.70.3.1', '-p', 'tcp', '--dport', '6379', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      },
    ]);
  });

  test('CAP_NET_ADMIN is read from the effective capability mask', () => {
    assert.equal(plan.hasNetAdmin('Name:\tnode\nCapEff:\t000001ffffffffff\n'), true);
    assert.equal(plan.hasNetAdmin('CapEff:\t0000000000001000\n'), true);
    assert.equal(plan.hasNetAdmin('CapEff:\t0000000000000000\n'), false);
    assert.equal(plan.hasNetAdmin('CapEff:\t0000000000000fff\n'), false);
    assert.equal(plan.hasNetAdmin(''), false);
  });
});
