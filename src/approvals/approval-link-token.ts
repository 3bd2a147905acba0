import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What an approval link says: which run, which decision, who it was issued to, until when. */
export interface ApprovalLinkClaim {
  runId: string;
  decision: 'approved' | 'rejected';
  /** The name recorded as deciding when the link is used. */
  user: string;
  /** Epoch milliseconds after which the link is refused. */
  expiresAtMs: number;
}

/** Why a token was refused before its run was looked at. */
export type TokenRefusal = 'malformed' | 'bad-signature' | 'expired';

/** The outcome of reading a token: never throws. */
export type TokenResult = { success: true; claim: ApprovalLinkClaim; id: string } | { success: false; refusal: TokenRefusal };

// Short keys keep the link short (some mail clients wrap long lines); `v` lets a later format be told apart.
const payloadSchema = z.strictObject({
  v: z.literal(1),
  r: z.string().min(1).max(512),
  d: z.enum(['a', 'r']),
  u: z.string().min(1).max(256),
  e: z.number().int().positive(),
});

/** Signs and verifies approval link tokens with one HMAC-SHA256 key. */
export interface ApprovalLinkTokens {
  sign(claim: ApprovalLinkClaim): string;
  /** Checks the form, then the signature, then the expiry against `nowMs`. */
  verify(token: string, nowMs: number): TokenResult;
}

/**
 * Tokens are `base64url(payload JSON).base64url(HMAC-SHA256(key, "remediator-approval-link.v1." + payload part))`.
 * The signature covers every field (run, decision, user, expiry), so changing any of them breaks it; the same claim
 * always gives the same token, so a notification re-rendered after a retry carries the same single-use link.
 * The token's id (for single use) is its signature: it names exactly one claim.
 */
export function createApprovalLinkTokens(key: string): ApprovalLinkTokens {
  const mac = (payload: string) => createHmac('sha256', key).update(`remediator-approval-link.v1.${payload}`).digest();
  return {
    sign(claim) {
      const payload = Buffer.from(
        JSON.stringify({ v: 1, r: claim.runId, d: claim.decision === 'approved' ? 'a' : 'r', u: claim.user, e: claim.expiresAtMs }),
      ).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    verify(token, nowMs) {
      const match = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/.exec(token);
      const payload = match?.[1];
      const signature = match?.[2];
      if (payload === undefined || signature === undefined) return { success: false, refusal: 'malformed' };
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload);
      // Before the payload is parsed: nothing an attacker wrote is interpreted unless the key signed it.
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { success: false, refusal: 'bad-signature' };
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return { success: false, refusal: 'malformed' };
      }
      const parsed = payloadSchema.safeParse(json);
      if (!parsed.success) return { success: false, refusal: 'malformed' };
      const { r, d, u, e } = parsed.data;
      if (nowMs >= e) return { success: false, refusal: 'expired' };
      return {
        success: true,
        claim: { runId: r, decision: d === 'a' ? 'approved' : 'rejected', user: u, expiresAtMs: e },
        id: expected.toString('hex'),
      };
    },
  };
}

/** What the notify steps of an approval can refer to as `{{ approval.* }}`. */
export interface ApprovalLinks {
  approveUrl: string;
  rejectUrl: string;
  linkUser: string;
  linkExpiresAt: string;
}

/** Issues the approve and reject links of a run: `<publicUrl>/approve/<token>`. */
export type ApprovalLinkIssuer = (request: { runId: string; user: string; expiresAtMs: number }) => ApprovalLinks;

/** Creates the issuer on `tokens`, the links pointing at `publicUrl` (PUBLIC_URL: where an approver's browser reaches remediator). */
export function createApprovalLinkIssuer(tokens: Pick<ApprovalLinkTokens, 'sign'>, publicUrl: string): ApprovalLinkIssuer {
  const base = publicUrl.replace(/\/+$/, '');
  return ({ runId, user, expiresAtMs }) => {
    const link = (decision: 'approved' | 'rejected') => `${base}/approve/${tokens.sign({ runId, decision, user, expiresAtMs })}`;
    return {
      approveUrl: link('approved'),
      rejectUrl: link('rejected'),
      linkUser: user,
      linkExpiresAt: new Date(expiresAtMs).toISOString(),
    };
  };
}
