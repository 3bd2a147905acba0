import type { Response } from 'express';
import type { Role } from '../users/roles.js';

/** Who makes an admin request, as the admin auth established it: recorded in every decision and audit entry. */
export interface Identity {
  name: string;
  role: Role;
  /** How it was established: a password (ADMIN_PASSWORD or USERS_FILE), a trusted proxy's header, a signed link. */
  via: 'password' | 'proxy' | 'link';
}

/** The caller of an admin route; the admin auth set it before any admin route runs. */
export function identityOf(res: Response): Identity {
  const identity = (res.locals as { identity?: Identity }).identity;
  // Unreachable behind adminAuth: a route mounted without it is a bug to fail loudly on, not an anonymous decision.
  if (!identity) throw new Error('no identity on an admin request: is the route mounted behind adminAuth?');
  return identity;
}

/** Puts the caller on the response, for identityOf. */
export function setIdentity(res: Response, identity: Identity): void {
  (res.locals as { identity?: Identity }).identity = identity;
}
