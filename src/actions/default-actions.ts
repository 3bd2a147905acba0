import { createTransport } from 'nodemailer';
import { createPrometheusClient } from '../promql/prometheus-client.js';
import { createActionRegistry, type ActionRegistry } from '../core/action-registry.js';
import { createEmailAction } from './email-action.js';
import { createExecAction } from './exec-action.js';
import { createHttpAction, type SecretRefReader } from './http-action.js';
import { createLogAction } from './log-action.js';
import { createPromqlWaitAction } from './promql-wait-action.js';
import type { PrimaryRecord } from '../state/primary-record.js';
import { createRedisFailoverAction, createRedisSentinelFailoverAction, createRedisSwitchoverAction } from './redis/index.js';
import { createHaproxyServerAction } from './haproxy-server-action.js';
import { createPostgresPromoteAction, createPostgresSwitchoverAction } from './postgres/index.js';
import type { RunMemory } from '../state/run-memory.js';
import { createHoldAction } from './hold-action.js';
import type { TargetHolds } from '../state/target-holds.js';
import { emptyInventory, type Inventory } from '../inventory/inventory.js';

/** The built-in actions, with their clients built from the given settings. */
export function createDefaultActions(options: {
  smtpUrl: string | undefined;
  smtpFrom: string;
  prometheusUrl: string | undefined;
  /** PATH for programs run by `exec` (their only inherited variable). */
  path: string | undefined;
  /** The clusters failover actions act on. */
  inventory?: Inventory;
  /** Where failover actions record the primary they chose. */
  primaryRecord?: PrimaryRecord;
  /** Reads secrets referenced by playbooks (http secretHeaders). */
  readSecret?: SecretRefReader;
  /** What actions remember across retries of a run, in any process. */
  runMemory?: RunMemory;
  /** Holds on targets (remediator.hold). */
  holds?: TargetHolds;
}): ActionRegistry {
  const inventory = options.inventory ?? emptyInventory;
  const transport = options.smtpUrl === undefined ? undefined : createTransport(options.smtpUrl);
  const prometheus = options.prometheusUrl === undefined ? undefined : createPrometheusClient({ baseUrl: options.prometheusUrl });
  return createActionRegistry([
    createExecAction({ baseEnv: { PATH: options.path } }),
    createHttpAction(options.readSecret ? { readSecret: options.readSecret } : {}),
    createEmailAction({ transport, from: options.smtpFrom }),
    createPromqlWaitAction({ prometheus }),
    createLogAction(),
    createRedisFailoverAction({ inventory, ...(options.primaryRecord ? { record: options.primaryRecord } : {}) }),
    createRedisSentinelFailoverAction(options.runMemory ? { memory: options.runMemory } : {}),
    createRedisSwitchoverAction({
      inventory,
      ...(options.primaryRecord ? { record: options.primaryRecord } : {}),
      ...(options.runMemory ? { memory: options.runMemory } : {}),
    }),
    createHaproxyServerAction(),
    createPostgresPromoteAction({ inventory, ...(options.primaryRecord ? { record: options.primaryRecord } : {}) }),
    createPostgresSwitchoverAction({ inventory, record: options.primaryRecord, memory: options.runMemory }),
    createHoldAction({ holds: options.holds }),
  ]);
}
