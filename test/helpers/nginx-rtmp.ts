import { findNginxRtmpPrograms, startNginxRtmp as startServer, type NginxRtmp } from '../../tools/lab/nginx-rtmp.js';
import { tempDir } from './temp-dir.js';

/** A real nginx with the RTMP module on loopback (tools/lab/nginx-rtmp.ts), in a temp dir of its own. */
export type TestNginxRtmp = NginxRtmp;

/** Starts nginx-rtmp on free ports in a fresh temp dir; its stop() removes the dir too. */
export async function startNginxRtmp(): Promise<TestNginxRtmp> {
  const found = await findNginxRtmpPrograms();
  if (!found.found) throw new Error(`nginx-rtmp tests need ${found.missingPackages.join(', ')}: npm run bootstrap as root installs them`);
  const dir = await tempDir('remediator-nginx-rtmp-');
  let server: NginxRtmp;
  try {
    server = await startServer({ dir: dir.path, programs: found.programs });
  } catch (error) {
    await dir.remove();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...server,
    stop() {
      stopping ??= server.stop().then(() => dir.remove());
      return stopping;
    },
  };
}
