import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { createApprovalLinkIssuer, createApprovalLinkTokens, type ApprovalLinkClaim } from '../../src/approvals/approval-link-token.js';

const key = 'k'.repeat(32);
const now = Date.parse('2026-12-03T20:00:00Z');
const claim: ApprovalLinkClaim = { runId: 'run-1', decision: 'approved', user: 'alice', expiresAtMs: now + 60_000 };

/** The token with its payload's JSON changed by `change`, keeping the original signature. */
function withPayload(token: string, change: (payload: Record<string, unknown>) => void): string {
  const [payload = '', signature = ''] = token.split('.');
  const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(json);
  return `${Buffer.from(JSON.stringify(json)).toString('base64url')}.${signature}`;
}

describe('approval link tokens', () => {
  const tokens = createApprovalLinkTokens(key);

  test('a token verifies with the key that signed it and gives back its run, decision, user and expiry', () => {
    const result = tokens.verify(tokens.sign(claim), now);
    assert.ok(result.success);
    assert.deepEqual(result.claim, claim);
    assert.match(result.id, /^[0-9a-f]{64}$/);
  });

  test('the same claim always gives the same token, and another claim another token id', () => {
    assert.equal(tokens.sign(claim), tokens.sign({ ...claim }));
    const approve = tokens.verify(tokens.sign(claim), now);
    const reject = tokens.verify(tokens.sign({ ...claim, decision: 'rejected' }), now);
    assert.ok(approve.success && reject.success);
    assert.notEqual(approve.id, reject.id);
  });

  for (const [field, change] of [
    ['run id', (payload: Record<string, unknown>) => (payload.r = 'run-2')],
    ['decision', (payload: Record<string, unknown>) => (payload.d = 'r')],
    ['user', (payload: Record<string, unknown>) => (payload.u = 'mallory')],
    ['expiry', (payload: Record<string, unknown>) => (payload.e = now + 86_400_000)],
  ] as const) {
    test(`a token whose ${field} was changed is refused as a bad signature`, () => {
      assert.deepEqual(tokens.verify(withPayload(tokens.sign(claim), change), now), { success: false, refusal: 'bad-signature' });
    });
  }

  test('a token whose signature was changed in one character is refused', () => {
    const token = tokens.sign(claim);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    assert.deepEqual(tokens.verify(`${token.slice(0, -2)}${last}${token.at(-1)}`, now), { success: false, refusal: 'bad-signature' });
  });

  test('a token signed with another key is refused as a bad signature', () => {
    const other = createApprovalLinkTokens('o'.repeat(32));
    assert.deepEqual(tokens.verify(other.sign(claim), now), { success: false, refusal: 'bad-signature' });
  });

  test('a token is refused as expired from its expiry on, and accepted a millisecond before', () => {
    const token = tokens.sign(claim);
    assert.equal(tokens.verify(token, claim.expiresAtMs - 1).success, true);
    assert.deepEqual(tokens.verify(token, claim.expiresAtMs), { success: false, refusal: 'expired' });
  });

  test('a cut, empty or garbled token is refused as malformed', () => {
    const token = tokens.sign(claim);
    for (const bad of ['', 'abc', token.slice(0, -5), token.split('.')[0] ?? '', `${token}.x`, 'a b.c', token.replace('.', '')])
      assert.deepEqual(tokens.verify(bad, now), { success: false, refusal: 'malformed' }, bad);
  });

  test('a correctly signed payload that is not a claim is refused as malformed', () => {
    // Only the key holder can make one (the signature's domain prefix is the format's): this guards a format change.
    const payload = Buffer.from(JSON.stringify({ v: 2, r: 'run-1' })).toString('base64url');
    const signature = createHmac('sha256', key).update(`remediator-approval-link.v1.${payload}`).digest('base64url');
    assert.equal(tokens.verify(`${payload}.${signature}`, now).success, false);
    assert.deepEqual(tokens.verify(`${payload}.${signature}`, now), { success: false, refusal: 'malformed' });
  });
});

describe('approval link issuer', () => {
  test('the links point at the public URL and carry tokens for approve and reject issued to the link user', () => {
    const tokens = createApprovalLinkTokens(key);
    const links = createApprovalLinkIssuer(
      tokens,
      'https://remediator.example.com/base/',
    )({ runId: 'run-1', user: 'alice', expiresAtMs: now + 1000 });
    assert.match(links.approveUrl, /^https:\/\/remediator\.example\.com\/base\/approve\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const token = (url: string) => url.slice(url.lastIndexOf('/') + 1);
    const approve = tokens.verify(token(links.approveUrl), now);
    const reject = tokens.verify(token(links.rejectUrl), now);
    assert.ok(approve.success && reject.success);
    assert.equal(approve.claim.decision, 'approved');
    assert.equal(reject.claim.decision, 'rejected');
    assert.equal(reject.claim.user, 'alice');
    assert.equal(links.linkUser, 'alice');
    assert.equal(links.linkExpiresAt, new Date(now + 1000).toISOString());
  });
});
