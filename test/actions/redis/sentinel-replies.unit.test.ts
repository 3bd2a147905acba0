import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failoverRefusal, masterAddressOf } from '../../../src/actions/redis/sentinel-replies.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { appError } from '../../helpers/action-run.js';

/** An error as ioredis rejects a command the server answered with an error. */
function replyError(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

describe('redis.sentinel-failover: reading the replies', () => {
  test('get-master-addr-by-name gives host:port, an IPv6 host in brackets, and nil for an unknown master', () => {
    assert.equal(masterAddressOf(['10.0.0.1', '6379'], 's1'), '10.0.0.1:6379');
    assert.equal(masterAddressOf(['::1', 6380], 's1'), '[::1]:6380');
    assert.equal(masterAddressOf(null, 's1'), undefined);
  });

  test('any other get-master-addr-by-name answer is a transient error quoting it', () => {
    for (const reply of [['10.0.0.1'], 'OK', 42, undefined]) {
      assert.throws(
        () => masterAddressOf(reply, 's1'),
        appError(errorCodes.STEP_FAILED, /sentinel s1 gave an unexpected get-master-addr-by-name answer/),
      );
    }
  });

  test('a SENTINEL FAILOVER already in progress is waited for; other refusals are permanent, a lost connection transient', () => {
    assert.equal(failoverRefusal('s1', 'mymaster', replyError('INPROG Failover already in progress')), undefined);
    assert.ok(
      appError(
        errorCodes.STEP_PERMANENT,
        /sentinel s1 has no good replica to promote for "mymaster": NOGOODSLAVE/,
      )(failoverRefusal('s1', 'mymaster', replyError('NOGOODSLAVE No suitable replica to promote'))),
    );
    assert.ok(
      appError(
        errorCodes.STEP_PERMANENT,
        /sentinel s1 requires a password \(NOAUTH Authentication required\.\); redis\.sentinel-failover connects without credentials/,
      )(failoverRefusal('s1', 'mymaster', replyError('NOAUTH Authentication required.'))),
    );
    assert.ok(
      appError(
        errorCodes.STEP_PERMANENT,
        /requires a password \(WRONGPASS/,
      )(failoverRefusal('s1', 'mymaster', replyError('WRONGPASS invalid username-password pair'))),
    );
    assert.ok(
      appError(
        errorCodes.STEP_PERMANENT,
        /sentinel s1 refused SENTINEL FAILOVER mymaster: ERR No such master with that name/,
      )(failoverRefusal('s1', 'mymaster', replyError('ERR No such master with that name'))),
    );
    assert.ok(
      appError(
        errorCodes.STEP_FAILED,
        /sentinel s1 failed during SENTINEL FAILOVER mymaster: Connection is closed\./,
      )(failoverRefusal('s1', 'mymaster', new Error('Connection is closed.'))),
    );
  });
});
