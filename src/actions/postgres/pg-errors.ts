import pg from 'pg';
import { permanentError, transientError } from '../../core/action.js';
import type { InventoryMember } from '../../inventory/inventory.js';

/** An SQLSTATE (five characters) on a server error; libpq/network errors carry errno codes instead. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && error instanceof pg.DatabaseError ? code : undefined;
}

/** Errors retrying will not fix: credentials, privileges, a missing database or function (too old a server). */
export function isPermanentSqlState(state: string | undefined): boolean {
  return state !== undefined && (state.startsWith('28') || state === '42501' || state === '3D000' || state === '42883');
}

/** An error's message, whatever was thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A failure of a change on `member`: permanent for credentials/privileges, otherwise transient. */
export function changeFailed(member: InventoryMember, what: string, error: unknown): Error {
  const message = `${what} on ${member.name} (${member.address}) failed: ${messageOf(error)}`;
  return isPermanentSqlState(sqlState(error)) ? permanentError(message, error) : transientError(message, error);
}
