import { labStreamCluster, type LabStreams } from './lab-streams.js';

/** What readiness reads of the lab (lab.ts's Lab, without importing it: lab.ts imports this file). */
interface ReadyLab {
  readonly urls: { prometheus: string };
  readonly streams: LabStreams;
  waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs: number, intervalMs: number): Promise<NonNullable<T>>;
}

/**
 * Waits until Prometheus scrapes every target and knows Alertmanager, the exporter reports cache-a as primary, and
 * the stream cluster publishes; `streamsStarted` is called once the stream cluster is up.
 */
export async function waitLabReady(
  lab: ReadyLab,
  receiver: string,
  streamsStarted: () => void,
  log: (line: string) => void,
): Promise<void> {
  const query = async (promql: string) => {
    const body = (await (await fetch(`${lab.urls.prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as {
      data: { result: unknown[] };
    };
    return body.data.result.length;
  };
  await lab.waitFor(
    'Prometheus to scrape every target',
    async () => {
      const body = (await (await fetch(`${lab.urls.prometheus}/api/v1/targets`)).json()) as {
        data: { activeTargets: { health: string }[] };
      };
      return body.data.activeTargets.length === 3 && body.data.activeTargets.every((target) => target.health === 'up');
    },
    60_000,
    250,
  );
  log(`  Prometheus scrapes ${receiver}, the exporter and itself`);
  await lab.waitFor(
    'Prometheus to find Alertmanager',
    async () => {
      const body = (await (await fetch(`${lab.urls.prometheus}/api/v1/alertmanagers`)).json()) as {
        data: { activeAlertmanagers: unknown[] };
      };
      return body.data.activeAlertmanagers.length > 0;
    },
    60_000,
    250,
  );
  await lab.waitFor(
    'the exporter to report the primary',
    async () => (await query('remediator_member_up{cluster="cache",role="primary"} == 1')) === 1,
    60_000,
    250,
  );
  // The stream cluster is background: no line of its own, but its member must be up and its stream published in
  // Prometheus before the fault, so every stream panel has data and no alert ever fires for it.
  await lab.streams.ready;
  streamsStarted();
  await lab.waitFor(
    'the exporter to report the published stream',
    async () => {
      const promql = `remediator_stream_up{cluster="${labStreamCluster}"} == 1 and on (cluster, instance) remediator_member_up{cluster="${labStreamCluster}"} == 1`;
      return (await query(promql)) === 1;
    },
    30_000,
    250,
  );
  log('  Alertmanager discovered; the exporter sees cache-a as primary');
}
