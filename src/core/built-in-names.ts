/** The alert name of the fence runs the reconcile loop starts (never sent by Alertmanager). */
export const secondPrimaryAlertName = 'RemediatorSecondPrimary';

/** The alert name of the switchover runs operators and drills start (never sent by Alertmanager). */
export const switchoverAlertName = 'RemediatorSwitchover';

/** The built-in playbook that switches a cluster of `kind` over. */
export const switchoverPlaybookName = (kind: string) => `remediator-switchover-${kind}`;
