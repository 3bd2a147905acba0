import type { Redis } from 'ioredis';
import { createApprovalLinkClaims, type ApprovalLinkClaims } from '../state/approval-link-claims.js';
import { createAuditLog, type AuditLog } from '../state/audit-log.js';
import {
  createApprovalLinkIssuer,
  createApprovalLinkTokens,
  type ApprovalLinkIssuer,
  type ApprovalLinkTokens,
} from './approval-link-token.js';

/** Approval links on one key: the worker issues them, the HTTP pages verify, claim (single use) and audit them. */
export interface ApprovalLinksService {
  issue: ApprovalLinkIssuer;
  route: { tokens: ApprovalLinkTokens; claims: ApprovalLinkClaims; audit: Pick<AuditLog, 'append'> };
}

/** Builds the approval links of the queue whose Redis keys start with `prefix` (claims and audit shared by every replica). */
export function createApprovalLinks(settings: { key: string; publicUrl: string }, redis: Redis, prefix: string): ApprovalLinksService {
  const tokens = createApprovalLinkTokens(settings.key);
  return {
    issue: createApprovalLinkIssuer(tokens, settings.publicUrl),
    route: { tokens, claims: createApprovalLinkClaims(redis, { prefix }), audit: createAuditLog(redis, { prefix }) },
  };
}
