import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { infoNumber, parseInfo, replicaOffset } from '../../src/inventory/redis-info.js';

describe('Redis INFO parsing', () => {
  test('fields are read from CRLF or LF lines; section headers, blank lines and lines without a key are skipped', () => {
    const info = parseInfo('# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\n\r\n:orphan value\r\nnot a field\nmaster_port:6379\r\n');
    assert.deepEqual(
      [...info],
      [
        ['role', 'slave'],
        ['master_host', '10.0.0.1'],
        ['master_port', '6379'],
      ],
    );
  });

  test('a value keeps everything after the first colon (an IPv6 address, a replica line with commas) and loses surrounding space', () => {
    const info = parseInfo('master_host:::1\nslave0:ip=::1,port=6380,state=online,offset=42,lag=0\nmaster_replid:  abc  \n');
    assert.equal(info.get('master_host'), '::1');
    assert.equal(info.get('slave0'), 'ip=::1,port=6380,state=online,offset=42,lag=0');
    assert.equal(info.get('master_replid'), 'abc');
  });

  test('a numeric field reads as a number, a missing one as 0, a garbled one as NaN', () => {
    const info = parseInfo('connected_slaves:2\nmaster_link_down_since_seconds:-1\nmaster_repl_offset:oops\n');
    assert.equal(infoNumber(info, 'connected_slaves'), 2);
    assert.equal(infoNumber(info, 'master_link_down_since_seconds'), -1);
    assert.equal(infoNumber(info, 'slave_repl_offset'), 0);
    assert.ok(Number.isNaN(infoNumber(info, 'master_repl_offset')));
  });

  test('a replica holds the larger of what it received and what it applied; without a read offset (older Redis) what it applied', () => {
    assert.equal(replicaOffset(parseInfo('slave_repl_offset:100\nslave_read_repl_offset:150\n')), 150);
    assert.equal(replicaOffset(parseInfo('slave_repl_offset:100\nslave_read_repl_offset:90\n')), 100);
    assert.equal(replicaOffset(parseInfo('slave_repl_offset:100\n')), 100);
    assert.equal(replicaOffset(parseInfo('role:slave\n')), 0);
  });
});
