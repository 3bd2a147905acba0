import { alertFingerprint, type WebhookPayload } from './webhook-schema.js';

/**
 * A webhook body of one firing alert that remediator made itself (a manual run, a switchover, a drill), for the same
 * intake as Alertmanager's: the same matching, targets, value limits, budgets and gates. Its fingerprint is computed
 * from its labels as for an alert without one.
 */
export function syntheticAlertPayload(options: {
  receiver: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: Date;
}): WebhookPayload {
  const alert = {
    status: 'firing' as const,
    labels: options.labels,
    annotations: options.annotations ?? {},
    startsAt: options.startsAt.toISOString(),
  };
  return {
    receiver: options.receiver,
    status: 'firing',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    alerts: [{ ...alert, fingerprint: alertFingerprint(alert) }],
  };
}
