import type { InventoryMember } from '../../inventory/inventory.js';

/** What INFO replication says about one member, or why it could not be asked. */
export interface RedisMemberState {
  member: InventoryMember;
  reachable: boolean;
  error?: string;
  role?: 'master' | 'slave';
  /** For a replica: host:port of its primary. */
  primary?: string;
  linkUp?: boolean;
  /** For a replica: seconds since its link to the primary went down (absent when up). */
  linkDownSeconds?: number;
  /** Replication offset: master_repl_offset of a primary, slave_repl_offset of a replica. */
  offset: number;
  /**
   * For a replica: slave_repl_offset, what it applied. Received data it has not applied yet (a replica whose clients
   * are paused) is dropped when it is promoted: a switchover waits for this one.
   */
  appliedOffset?: number;
  connectedReplicas: number;
}
