import type { Logger } from 'pino';
import { skipRun } from '../../core/action.js';
import { joinAddress } from '../../inventory/inventory.js';
import { confirmDeath, type ConfirmationRecord } from '../confirm/confirm-death.js';
import type { ConfirmParams } from '../confirm/confirm-schema.js';
import { decideDeath, type ObservationRound, type WitnessObservation } from '../confirm/death-verdict.js';
import { createRedisDeathObserver } from './death-observer.js';
import type { RedisConnections } from './sentinel-connections.js';
import { sentinelWitness } from './witness.js';

/** What the sentinels said about the master during the confirmation, for the step's output. */
export interface SentinelView {
  lost: string[];
  seeing: string[];
  quorum: number;
  /** What each sentinel said in the last round. */
  last: Record<string, string>;
}

/** SENTINEL REPLICAS / MASTER replies: one flat [field, value, …] array per instance, as a map. */
function fieldsOf(flat: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  if (Array.isArray(flat))
    for (let index = 0; index + 1 < flat.length; index += 2) fields.set(String(flat[index]), String(flat[index + 1]));
  return fields;
}

/**
 * Confirms that the master `master` (host:port) of `masterName` is dead before SENTINEL FAILOVER: remediator PINGs
 * it; the replicas Sentinel lists (asked directly, INFO replication) must have lost it as confirmDeath decides; and,
 * in the same rounds, a quorum of the answering sentinels must have lost it too (SENTINEL MASTER: s_down, o_down,
 * disconnected, or no valid PING reply for two ping periods; see sentinelWitness). A failover Sentinel is already
 * carrying out is not ours to confirm: `inProgress`, and the caller waits for it. Otherwise ends the run skipped.
 */
export async function confirmSentinelMaster(
  connections: RedisConnections,
  options: { sentinel: string; sentinels: readonly string[]; masterName: string; master: string; confirm: ConfirmParams },
  context: { signal: AbortSignal; logger: Logger },
): Promise<{ inProgress: true } | { inProgress: false; confirmation: ConfirmationRecord; sentinels: SentinelView }> {
  const { sentinel, masterName, master, confirm } = options;
  const flags = fieldsOf(await connections.call(sentinel, confirm.probeTimeout * 4, 'SENTINEL', 'MASTER', masterName)).get('flags') ?? '';
  if (flags.split(',').includes('failover_in_progress')) return { inProgress: true };
  const listed = await connections.call(sentinel, confirm.probeTimeout * 4, 'SENTINEL', 'REPLICAS', masterName);
  const replicas = (Array.isArray(listed) ? listed : []).map((flat) => {
    const fields = fieldsOf(flat);
    return joinAddress(fields.get('ip') ?? '', fields.get('port') ?? '');
  });
  const sentinelRounds: ObservationRound[] = [];
  const askSentinel = async (address: string): Promise<WitnessObservation> => {
    const member = `sentinel ${address}`;
    try {
      return sentinelWitness(member, master, await connections.call(address, confirm.probeTimeout, 'SENTINEL', 'MASTER', masterName));
    } catch (error) {
      if (context.signal.aborted) throw error;
      return { member, answered: false, follows: false, lost: false, detail: (error as Error).message };
    }
  };
  const replicaObserver = createRedisDeathObserver({
    primary: { name: master, address: master },
    replicas: replicas.map((address) => ({
      name: address,
      call: (command: string, ...args: string[]) => connections.call(address, confirm.probeTimeout, command, ...args),
    })),
    probeTimeout: confirm.probeTimeout,
  });
  const confirmation = await confirmDeath(
    {
      ...replicaObserver,
      askWitnesses: async () => {
        const at = Date.now();
        const [fromReplicas, fromSentinels] = await Promise.all([
          replicaObserver.askWitnesses(),
          Promise.all(options.sentinels.map(askSentinel)),
        ]);
        // The primary's probe is confirmDeath's: by the time the sentinels are judged, it never answered.
        sentinelRounds.push({ at, primary: { answered: false, detail: '' }, witnesses: fromSentinels });
        return fromReplicas;
      },
    },
    confirm,
    context,
  );
  const verdict = decideDeath(master, sentinelRounds, confirm);
  const view: SentinelView = {
    lost: verdict.lost,
    seeing: verdict.confirmed ? [] : verdict.seeing,
    quorum: verdict.needed,
    last: Object.fromEntries((sentinelRounds.at(-1)?.witnesses ?? []).map((witness) => [witness.member, witness.detail])),
  };
  context.logger.warn({ master, sentinels: view }, verdict.confirmed ? 'sentinels agree: master lost' : 'sentinels still see the master');
  if (verdict.confirmed) return { inProgress: false, confirmation, sentinels: view };
  const answering = verdict.lost.length + verdict.seeing.length;
  if (answering === 0)
    throw skipRun('death-unconfirmed', `no sentinel watching ${master} answered: Sentinel's view is unknown`, {
      confirmation,
      sentinels: view,
    });
  throw skipRun(
    'primary-reachable-from-sentinels',
    `${master} did not answer remediator and its replicas lost it, but only ${verdict.lost.length} of ${answering} sentinels lost it for ${confirm.window / 1000} s (quorum ${verdict.needed}); ${verdict.seeing.join(', ')} still see${verdict.seeing.length === 1 ? 's' : ''} it`,
    { confirmation, sentinels: view },
  );
}
