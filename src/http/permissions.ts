import type { RequestHandler } from 'express';
import type { Role } from '../users/roles.js';
import { sendError } from './http-errors.js';
import { identityOf } from './identity.js';

/** One admin route or queue UI action and the roles that may use it. */
export interface Permission {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The full path, `:name` for a segment (as express writes it). */
  path: string;
  /** What it does, for the 403's message and the docs. */
  action: string;
  roles: readonly Role[];
}

const everyone: readonly Role[] = ['viewer', 'operator', 'approver', 'admin'];
const operators: readonly Role[] = ['operator', 'admin'];
const approvers: readonly Role[] = ['approver', 'admin'];
const admins: readonly Role[] = ['admin'];

/** The queue UI's API, mounted at /queues (Bull Board's routes, @bull-board/api dist/routes.js). */
const board = '/queues/api/queues';

/**
 * Every admin route (src/http/*-route.ts) and every action of the queue UI, with who may use it. A request matching
 * none is allowed to everyone when it only reads (GET, HEAD, OPTIONS: the UI's pages and reads, and 404s) and to admins only
 * otherwise, so a route added without a line here is closed, not open.
 */
export const permissions: readonly Permission[] = [
  { method: 'GET', path: '/api/runs', action: 'list runs', roles: everyone },
  { method: 'GET', path: '/api/runs/:id', action: 'read a run', roles: everyone },
  { method: 'GET', path: '/api/pause', action: 'read the kill switch', roles: everyone },
  { method: 'GET', path: '/api/holds', action: 'list holds', roles: everyone },
  { method: 'GET', path: '/api/audit', action: 'read the audit', roles: everyone },
  { method: 'POST', path: '/api/runs/:id/approve', action: 'approve a run', roles: approvers },
  { method: 'POST', path: '/api/runs/:id/reject', action: 'reject a run', roles: approvers },
  { method: 'POST', path: '/api/runs/:id/retry', action: 'retry a run', roles: operators },
  { method: 'POST', path: '/api/pause', action: 'pause remediation', roles: operators },
  { method: 'POST', path: '/api/resume', action: 'resume remediation', roles: operators },
  { method: 'POST', path: '/api/holds', action: 'hold a target', roles: operators },
  { method: 'DELETE', path: '/api/holds/:target', action: 'release a hold', roles: operators },
  { method: 'POST', path: '/api/budgets/:playbook/:target/reset', action: 'reset a budget', roles: operators },
  { method: 'POST', path: '/api/playbooks/:name/run', action: 'start a manual run', roles: operators },
  { method: 'POST', path: '/api/clusters/:cluster/switchover', action: 'request a switchover', roles: operators },
  { method: 'DELETE', path: '/api/clusters/:cluster/switchover', action: 'withdraw a switchover', roles: operators },
  { method: 'PUT', path: `${board}/pause`, action: 'pause every queue in the queue UI', roles: operators },
  { method: 'PUT', path: `${board}/resume`, action: 'resume every queue in the queue UI', roles: operators },
  { method: 'PUT', path: `${board}/:queue/pause`, action: 'pause the queue in the queue UI', roles: operators },
  { method: 'PUT', path: `${board}/:queue/resume`, action: 'resume the queue in the queue UI', roles: operators },
  { method: 'PUT', path: `${board}/:queue/:job/retry`, action: 'retry a job in the queue UI', roles: operators },
  { method: 'PUT', path: `${board}/:queue/retry/:status`, action: 'retry all jobs in the queue UI', roles: operators },
  // Promoting a run that waits for approval approves it (approval-route.ts): an approver may do that, an operator may
  // promote any other delayed job; which one it is is checked there, on the job.
  {
    method: 'PUT',
    path: `${board}/:queue/:job/promote`,
    action: 'promote a job in the queue UI',
    roles: ['operator', 'approver', 'admin'],
  },
  { method: 'PUT', path: `${board}/:queue/promote`, action: 'promote all delayed jobs in the queue UI', roles: operators },
  // Removing or editing jobs destroys the record of what ran, or runs what no alert asked for: admins only.
  { method: 'PUT', path: `${board}/:queue/:job/clean`, action: 'remove a job in the queue UI', roles: admins },
  { method: 'PUT', path: `${board}/:queue/clean/:status`, action: 'clean jobs in the queue UI', roles: admins },
  { method: 'PUT', path: `${board}/:queue/empty`, action: 'empty the queue in the queue UI', roles: admins },
  { method: 'PUT', path: `${board}/:queue/obliterate`, action: 'obliterate the queue in the queue UI', roles: admins },
  { method: 'POST', path: `${board}/:queue/add`, action: 'add a job in the queue UI', roles: admins },
  { method: 'PATCH', path: `${board}/:queue/:job/update-data`, action: "edit a job's data in the queue UI", roles: admins },
  { method: 'PATCH', path: `${board}/:queue/:job/delay`, action: "change a job's delay in the queue UI", roles: admins },
  { method: 'PATCH', path: `${board}/:queue/:job/priority`, action: "change a job's priority in the queue UI", roles: admins },
  { method: 'PUT', path: `${board}/:queue/concurrency`, action: "set the queue's concurrency in the queue UI", roles: admins },
  { method: 'PUT', path: `${board}/:queue/rate-limit`, action: "set the queue's rate limit in the queue UI", roles: admins },
  { method: 'PUT', path: `${board}/:queue/rate-limit/release`, action: 'release the rate limit in the queue UI', roles: admins },
  { method: 'PUT', path: `${board}/:queue/job-schedulers/:id/remove`, action: 'remove a job scheduler in the queue UI', roles: admins },
  { method: 'PUT', path: `${board}/:queue/job-schedulers/:id/run`, action: 'run a job scheduler in the queue UI', roles: admins },
  { method: 'PATCH', path: `${board}/:queue/job-schedulers/:id`, action: 'edit a job scheduler in the queue UI', roles: admins },
  {
    method: 'PUT',
    path: `${board}/:queue/:job/remove-unprocessed-children`,
    action: "remove a job's children in the queue UI",
    roles: admins,
  },
];

/** What a request needs: the roles allowed, and what it was taken for. */
export interface Requirement {
  roles: readonly Role[];
  action: string;
}

// Express matches paths case-insensitively and with or without a trailing slash: so do these.
const compiled = permissions.map((permission) => ({
  permission,
  pattern: new RegExp(`^${permission.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[a-z]+/g, '[^/]+')}/?$`, 'i'),
}));

/**
 * The roles `method` on `path` needs. When several entries match (Bull Board's `/:queue/:job/retry` and
 * `/:queue/clean/:status` both match `/q/clean/retry`), only roles every one of them allows: whichever handler
 * express picks, the caller may use it.
 */
export function requirementOf(method: string, path: string): Requirement {
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const matching = compiled.filter(({ permission, pattern }) => permission.method === verb && pattern.test(path)).map((m) => m.permission);
  if (matching.length === 0)
    return verb === 'GET' || verb === 'OPTIONS' ? { roles: everyone, action: 'read' } : { roles: admins, action: `${verb} ${path}` };
  return {
    roles: everyone.filter((role) => matching.every((permission) => permission.roles.includes(role))),
    action: matching.map((permission) => permission.action).join(' / '),
  };
}

/** What approving a run needs, however it is done (the API, or Promote in the queue UI). */
export const approvalRequirement: Requirement = { roles: approvers, action: 'approving a run' };

/** What promoting a delayed job that is not waiting for approval needs (Promote in the queue UI). */
export const promoteRequirement: Requirement = { roles: operators, action: 'promoting a job not waiting for approval' };

/** True when `role` may do what `requirement` describes. */
export const allows = (requirement: Requirement, role: Role): boolean => requirement.roles.includes(role);

/** True when `role` gets the queue UI with its action buttons: it may retry there (others get the read-only board). */
export const mayActInQueueUi = (role: Role): boolean => allows(requirementOf('PUT', `${board}/queue/job/retry`), role);

/** The 403 of a known user without the role: it says which role would do. */
export function sendForbidden(res: Parameters<RequestHandler>[1], requirement: Requirement): void {
  const identity = identityOf(res);
  sendError(
    res,
    403,
    'FORBIDDEN',
    `${requirement.action} needs the role ${requirement.roles.join(' or ')}; ${identity.name} has the role ${identity.role}`,
    { needs: requirement.roles, role: identity.role },
  );
}

/** Behind the admin auth: refuses with 403 a request the caller's role may not make. */
export const authorize: RequestHandler = (req, res, next) => {
  const requirement = requirementOf(req.method, `${req.baseUrl}${req.path}`);
  if (allows(requirement, identityOf(res).role)) next();
  else sendForbidden(res, requirement);
};
