import { syntheticAlertPayload } from '../alerts/synthetic-alert.js';
import type { WebhookPayload } from '../alerts/webhook-schema.js';
import { switchoverAlertName } from '../core/built-in-names.js';
import { drillPlaybookName, type Drill } from './drill.js';

/**
 * The synthetic alert of one occurrence of a drill, as a webhook body for the intake. Its labels and start are
 * the drill's and the occurrence's only, so its fingerprint and the run's job id are the same in every process
 * and after a restart: the intake adds the run once.
 */
export function drillPayload(drill: Drill, at: number): WebhookPayload {
  const labels = {
    alertname: switchoverAlertName,
    cluster: drill.cluster,
    service: drill.clusterKind,
    // A failover drill promotes without waiting for the catch-up, as a failover does.
    mode: drill.kind === 'failover' ? 'unplanned' : 'planned',
    drill: drill.name,
  };
  return syntheticAlertPayload({
    receiver: `drill:${drill.name}`,
    labels,
    annotations: { summary: `scheduled ${drill.kind} drill ${drill.name} of cluster ${drill.cluster} (${drillPlaybookName(drill)})` },
    startsAt: new Date(at),
  });
}
