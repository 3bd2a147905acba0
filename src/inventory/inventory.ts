import type { clusterKinds } from './inventory-schema.js';

/** A cluster kind. */
export type ClusterKind = (typeof clusterKinds)[number];

/** One member of a cluster. */
export interface InventoryMember {
  readonly name: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly priority: number;
  readonly healthUrl?: string | undefined;
  readonly role?: string | undefined;
}

/** A cluster with its credentials resolved (kept in memory only, never logged). */
export interface InventoryCluster {
  readonly name: string;
  readonly kind: ClusterKind;
  readonly database?: string;
  readonly username?: string;
  readonly password?: string;
  readonly members: readonly InventoryMember[];
}

/** The systems remediator acts on, by cluster name. */
export interface Inventory {
  readonly file: string | undefined;
  readonly clusters: ReadonlyMap<string, InventoryCluster>;
}

/** An inventory with no clusters (no inventory file). */
export const emptyInventory: Inventory = { file: undefined, clusters: new Map() };

/** host:port as the inventory writes it: an IPv6 host in [brackets]. */
export function joinAddress(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits host:port ([v6]:port too). */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
