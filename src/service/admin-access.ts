import type { Config } from '../config/index.js';
import type { TrustedProxySettings } from '../http/trusted-proxy.js';
import type { SourceProblem } from '../sources/index.js';
import { loadUsersFile, type UserRecord } from '../users/users-file.js';

/** Who may use the admin surfaces besides ADMIN_USER: USERS_FILE's users and a trusted proxy (ServiceSettings). */
export interface AdminAccess {
  users?: readonly UserRecord[];
  trustedProxy?: TrustedProxySettings;
}

/** Reads USERS_FILE (every problem at once) and the TRUSTED_PROXY_* settings. */
export async function loadAdminAccess(
  config: Pick<
    Config,
    | 'USERS_FILE'
    | 'ADMIN_USER'
    | 'ADMIN_PASSWORD'
    | 'TRUSTED_PROXY_USER_HEADER'
    | 'TRUSTED_PROXY_ROLE_HEADER'
    | 'TRUSTED_PROXY_DEFAULT_ROLE'
    | 'TRUSTED_PROXIES'
  >,
): Promise<{ success: true; access: AdminAccess } | { success: false; problems: SourceProblem[] }> {
  const users =
    config.USERS_FILE === undefined
      ? undefined
      : await loadUsersFile(config.USERS_FILE, config.ADMIN_PASSWORD === undefined ? {} : { reserved: config.ADMIN_USER });
  if (users && !users.success) return users;
  const trustedProxy: TrustedProxySettings | undefined =
    config.TRUSTED_PROXY_USER_HEADER === undefined
      ? undefined
      : {
          userHeader: config.TRUSTED_PROXY_USER_HEADER,
          ...(config.TRUSTED_PROXY_ROLE_HEADER === undefined ? {} : { roleHeader: config.TRUSTED_PROXY_ROLE_HEADER }),
          defaultRole: config.TRUSTED_PROXY_DEFAULT_ROLE,
          proxies: config.TRUSTED_PROXIES,
        };
  return { success: true, access: { ...(users ? { users: users.users } : {}), ...(trustedProxy ? { trustedProxy } : {}) } };
}
