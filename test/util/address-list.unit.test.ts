import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAddressList, parseAddressEntry } from '../../src/util/address-list.js';

describe('TRUSTED_PROXIES: addresses and CIDR blocks, IPv4 and IPv6', () => {
  test('an address, a block and an IPv6 block match what they contain and nothing else', () => {
    const list = createAddressList(['127.0.0.2', '10.1.0.0/16', 'fd00::/8']);
    assert.deepEqual(
      [
        '127.0.0.2',
        '127.0.0.1',
        '10.1.200.3',
        '10.2.0.1',
        'fd12::1',
        'fe80::1',
        '::ffff:127.0.0.2',
        '::ffff:127.0.0.3',
        '',
        'nonsense',
      ].map((address) => list.has(address)),
      [true, false, true, false, true, false, true, false, false, false],
    );
  });

  test('an entry that is not an address or a block is refused with its text', () => {
    assert.deepEqual(parseAddressEntry('10.0.0.0/8'), { success: true });
    assert.deepEqual(parseAddressEntry('::1'), { success: true });
    for (const [entry, message] of [
      ['proxy.example.org', /not an address or a CIDR block/],
      ['10.0.0.0/33', /bad prefix length/],
      ['10.0.0.0/x', /bad prefix length/],
      ['10.0.0.0/8/8', /not an address/],
    ] as const) {
      const parsed = parseAddressEntry(entry);
      assert.ok(!parsed.success, entry);
      assert.match(parsed.message, message);
    }
  });
});
