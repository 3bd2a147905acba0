import type { IncomingMessage } from 'node:http';
import { createAddressList } from '../util/address-list.js';
import { isRole, type Role } from '../users/roles.js';

/** A reverse proxy that authenticates users (SSO) and names them in a header (TRUSTED_PROXY_*). */
export interface TrustedProxySettings {
  /** The header naming the user (TRUSTED_PROXY_USER_HEADER), e.g. X-Forwarded-User. */
  userHeader: string;
  /** The header naming the role (TRUSTED_PROXY_ROLE_HEADER); absent or not sent: `defaultRole`. */
  roleHeader?: string;
  defaultRole: Role;
  /** Addresses and CIDR blocks of the proxies (TRUSTED_PROXIES): the header counts only from these TCP peers. */
  proxies: readonly string[];
}

/** What a request's proxy header says: nothing, a user, a header from a peer that is not a proxy, or a bad role. */
export type ProxyIdentity =
  | { kind: 'none' }
  | { kind: 'user'; name: string; role: Role }
  | { kind: 'untrusted'; peer: string }
  | { kind: 'bad-role'; name: string; role: string };

/** Reads the identity a trusted proxy put on a request; the header is believed only from a proxy's address. */
export function createTrustedProxy(settings: TrustedProxySettings): (req: IncomingMessage) => ProxyIdentity {
  const proxies = createAddressList(settings.proxies);
  const userHeader = settings.userHeader.toLowerCase();
  const roleHeader = settings.roleHeader?.toLowerCase();
  return (req) => {
    const name = headerValue(req, userHeader);
    if (name === undefined) return { kind: 'none' };
    const peer = req.socket.remoteAddress ?? '';
    if (!proxies.has(peer)) return { kind: 'untrusted', peer };
    const role = roleHeader === undefined ? undefined : headerValue(req, roleHeader);
    if (role === undefined) return { kind: 'user', name, role: settings.defaultRole };
    return isRole(role) ? { kind: 'user', name, role } : { kind: 'bad-role', name, role };
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text ? text : undefined;
}
