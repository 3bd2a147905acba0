import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HarnessProcess } from '../harness/process.js';
import { startNginxRtmp, type NginxRtmp, type NginxRtmpPrograms } from '../harness/nginx-rtmp.js';

/** The lab's stream cluster and its one member, as the Fleet dashboard and the inventory name them. */
export const labStreamCluster = 'cameras';
const memberName = 'stream-a';
const streamName = 'stream-a';

/** The lab's stream cluster: nginx-rtmp with one camera publishing and one player reading. */
export interface LabStreams {
  /** The cluster as the inventory file declares it (kind stream, one primary member probed through /stat). */
  readonly inventoryCluster: {
    kind: 'stream';
    description: string;
    members: { name: string; address: string; healthUrl: string; role: string }[];
  };
  /** nginx-rtmp's /stat. */
  readonly statUrl: string;
  /** The camera's stream, for a player. */
  readonly rtmpUrl: string;
  /** Resolves once nginx lists the camera publishing and the player reading; rejects with what failed. */
  readonly ready: Promise<void>;
  /** Throws when nginx or one of its ffmpeg clients has exited (or the start failed): the member must stay up. */
  check(): void;
  /** Stops the ffmpeg clients, then nginx, at any point of the start; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the lab's stream cluster in the background under `dir`/nginx-rtmp: a real nginx with the RTMP module on
 * the given loopback ports, an ffmpeg camera publishing a test pattern at a low bit rate (15 fps, 150 kbit/s),
 * and an ffmpeg player reading it, so that the exporter reports stream up, bit rate, readers and the RTMP
 * handshake. It returns at once; `ready` says when the stream is listed. Nothing acts on this cluster: its
 * member stays up through the demo, so InstanceDown never fires for it.
 */
export function startLabStreams(options: { dir: string; programs: NginxRtmpPrograms; rtmpPort: number; httpPort: number }): LabStreams {
  const controller = new AbortController();
  const dir = join(options.dir, 'nginx-rtmp');
  let server: NginxRtmp | undefined;
  const clients: HarnessProcess[] = [];
  let failed: Error | undefined;
  const ready = (async () => {
    await mkdir(dir, { recursive: true });
    server = await startNginxRtmp({
      dir,
      programs: options.programs,
      rtmpPort: options.rtmpPort,
      httpPort: options.httpPort,
      signal: controller.signal,
    });
    clients.push(await server.publish(streamName, { frameRate: 15, videoBitrate: '150k' }));
    clients.push(await server.play(streamName));
  })();
  // Observed through check() and by whoever awaits ready; never an unhandled rejection.
  ready.catch((error: unknown) => {
    failed = error instanceof Error ? error : new Error(String(error));
  });

  let stopping: Promise<void> | undefined;
  const address = `127.0.0.1:${options.rtmpPort}`;
  const statUrl = `http://127.0.0.1:${options.httpPort}/stat`;
  return {
    inventoryCluster: {
      kind: 'stream',
      description: 'The lab camera: nginx-rtmp with one ffmpeg test stream and one reader.',
      members: [{ name: memberName, address, healthUrl: statUrl, role: 'primary' }],
    },
    statUrl,
    rtmpUrl: `rtmp://${address}/live/${streamName}`,
    ready,
    check() {
      if (stopping) return;
      if (failed) throw new Error(`the stream cluster did not start: ${failed.message}`);
      if (server && !server.running()) throw new Error(`nginx-rtmp exited:\n${server.output().slice(-2000)}`);
      const gone = clients.find((client) => !client.running());
      if (gone) throw new Error(`${gone.name} exited:\n${gone.output().slice(-2000)}`);
    },
    stop() {
      stopping ??= (async () => {
        controller.abort();
        await ready.catch(() => undefined);
        await server?.stop();
      })();
      return stopping;
    },
  };
}
