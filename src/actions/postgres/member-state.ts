import type { InventoryMember } from '../../inventory/inventory.js';
import type { Endpoint } from './conninfo.js';

/** What one member answered, or why it could not be asked. */
export type PostgresMemberState =
  | { member: InventoryMember; role: 'down'; error: string }
  /** Answered but could not be probed (starting up, shutting down, refused our credentials): state unknown. */
  | { member: InventoryMember; role: 'unknown'; error: string; permanent: boolean }
  | {
      member: InventoryMember;
      role: 'primary';
      lsn: string;
      position: bigint;
      timeline: number;
      /** A fresh session starts read-only: fenced. */
      readOnly: boolean;
      streamingStandbys: number;
    }
  | {
      member: InventoryMember;
      role: 'standby';
      receiveLsn: string | undefined;
      replayLsn: string;
      /** WAL received from the upstream (the replay position when nothing was received since startup). */
      received: bigint;
      replayed: bigint;
      paused: boolean;
      conninfo: string;
      slotName: string;
      /** host:port the WAL receiver currently streams from (absent when it does not stream). */
      streamingFrom: Endpoint | undefined;
      /** The timeline it receives on (its last restartpoint's when no WAL receiver runs). */
      timeline: number;
    };

/** A member that answers as a primary. */
export type PrimaryState = Extract<PostgresMemberState, { role: 'primary' }>;
/** A member that answers as a standby (in recovery). */
export type StandbyState = Extract<PostgresMemberState, { role: 'standby' }>;
/** A member that answered but could not be inspected. */
export type UnknownState = Extract<PostgresMemberState, { role: 'unknown' }>;

/**
 * The inventory members an endpoint (a standby's upstream, a host in its primary_conninfo) designates, in inventory
 * order: same port, and the same host by name or by address. Resolved before planning, so the plan stays pure.
 */
export type MemberLocator = (endpoint: Endpoint) => readonly InventoryMember[];
