import { readFileSync } from 'node:fs';
import { access, constants, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { findExecutable } from '../../src/redis/embedded-redis.js';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess } from './process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** Debian's libnginx-mod-rtmp. */
export const rtmpModulePath = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** The programs a real RTMP ingest needs here: nginx with its RTMP module, and ffmpeg for cameras and players. */
export interface NginxRtmpPrograms {
  readonly nginx: string;
  readonly ffmpeg: string;
  readonly rtmpModule: string;
}

/** The programs, or the Debian packages that provide the missing ones. */
export type FindNginxRtmpResult = { found: true; programs: NginxRtmpPrograms } | { found: false; missingPackages: string[] };

/**
 * Looks for nginx, ffmpeg and the RTMP module. Debian installs nginx in /usr/sbin, which is not on a normal
 * user's PATH, so /usr/sbin and /sbin are searched after PATH.
 */
export async function findNginxRtmpPrograms(path = process.env.PATH ?? '', rtmpModule = rtmpModulePath): Promise<FindNginxRtmpResult> {
  const [nginx, ffmpeg, moduleFound] = await Promise.all([
    findExecutable('nginx', [path, '/usr/sbin', '/sbin'].join(delimiter)),
    findExecutable('ffmpeg', path),
    access(rtmpModule, constants.R_OK).then(
      () => true,
      () => false,
    ),
  ]);
  if (nginx !== undefined && ffmpeg !== undefined && moduleFound) return { found: true, programs: { nginx, ffmpeg, rtmpModule } };
  const missingPackages = [
    ...(nginx === undefined ? ['nginx'] : []),
    ...(moduleFound ? [] : ['libnginx-mod-rtmp']),
    ...(ffmpeg === undefined ? ['ffmpeg'] : []),
  ];
  return { found: false, missingPackages };
}

/** What an ffmpeg camera sends: an H.264 test pattern and an AAC tone. */
export interface PublishOptions {
  /** Frames per second of the test pattern (default 25). */
  readonly frameRate?: number;
  /** H.264 target bit rate in ffmpeg's notation (default '300k', 300 kbit/s). */
  readonly videoBitrate?: string;
}

/** A real nginx with the RTMP module on loopback: application `live`, and `rtmp_stat all` at /stat. */
export interface NginxRtmp {
  /** host:port of the RTMP ingest. */
  readonly address: string;
  readonly host: string;
  readonly rtmpPort: number;
  /** http://127.0.0.1:port/stat */
  readonly statUrl: string;
  /** rtmp://host:port/live/`stream` */
  rtmpUrl(stream: string): string;
  /** Starts an ffmpeg camera publishing a test pattern to live/`stream`; resolves once nginx lists it publishing. */
  publish(stream: string, options?: PublishOptions): Promise<HarnessProcess>;
  /** Starts an ffmpeg player reading live/`stream` (it waits if nothing publishes yet); resolves once nginx lists it. */
  play(stream: string): Promise<HarnessProcess>;
  /** The current /stat XML. */
  stat(): Promise<string>;
  /** nginx's own output and error.log. */
  output(): string;
  /** True until nginx exits. */
  running(): boolean;
  /** Stops every ffmpeg started here, then nginx; safe to call twice. Removes the temp dir it made, leaves a given `dir` to its owner. */
  stop(): Promise<void>;
}

/** Where nginx-rtmp runs and how its waits end early. */
export interface NginxRtmpOptions {
  /** Its config, pid, logs and temp files go here, created and removed by the caller; a fresh temp dir when not given. */
  readonly dir?: string;
  /** Found on this machine when not given. */
  readonly programs?: NginxRtmpPrograms;
  /** Free ports when not given. */
  readonly rtmpPort?: number;
  readonly httpPort?: number;
  /** Aborting ends every wait at once (start, publish, play) with an error, so the owner can stop without delay. */
  readonly signal?: AbortSignal;
}

/** The <stream> block of `stream` in a /stat document, if listed. */
function streamBlock(xml: string, stream: string): string | undefined {
  // rtmp_stat ends its lines with CRLF.
  return xml
    .split('<stream>')
    .slice(1)
    .find((block) => block.trimStart().startsWith(`<name>${stream}</name>`));
}

function nginxConfig(options: { rtmpModule: string; rtmpPort: number; httpPort: number; temp: (name: string) => string }): string {
  const { rtmpModule, rtmpPort, httpPort, temp } = options;
  return `load_module ${rtmpModule};
daemon off;
master_process off;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} info;
events { worker_connections 128; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    application live { live on; record off; }
  }
}
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  server {
    listen 127.0.0.1:${httpPort};
    location /stat { rtmp_stat all; }
  }
}
`;
}

/**
 * Starts nginx in the foreground (daemon off, master_process off) with everything it writes in `options.dir`, and
 * resolves once /stat answers. On failure it stops what it started and rejects with nginx's output.
 */
export async function startNginxRtmp(options: NginxRtmpOptions = {}): Promise<NginxRtmp> {
  const { signal } = options;
  let programs = options.programs;
  if (!programs) {
    const found = await findNginxRtmpPrograms();
    if (!found.found) throw new Error(`nginx-rtmp needs ${found.missingPackages.join(', ')}: \`npm run bootstrap\` as root installs them`);
    programs = found.programs;
  }
  const owned = options.dir === undefined ? await tempDir('remediator-nginx-rtmp-') : undefined;
  const dir = options.dir ?? owned?.path ?? '';
  const rtmpPort = options.rtmpPort ?? (await freePort());
  const httpPort = options.httpPort ?? (await freePort());
  const temp = (name: string) => join(dir, name);
  const config = temp('nginx.conf');
  await writeFile(config, nginxConfig({ rtmpModule: programs.rtmpModule, rtmpPort, httpPort, temp }));
  // -e: errors before the config is read (e.g. a bad config) go to the dir too, not /var/log/nginx.
  const nginx = startProcess(programs.nginx, ['-p', dir, '-c', config, '-e', temp('error.log')], { name: 'nginx' });
  const clients = new Set<HarnessProcess>();
  const statUrl = `http://127.0.0.1:${httpPort}/stat`;
  const stat = async () => {
    const response = await fetch(statUrl, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) throw new Error(`nginx /stat answered ${response.status}`);
    return response.text();
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.all([...clients].map((client) => client.stop(2000)));
      await nginx.stop();
      await owned?.remove();
    })();
    return stopping;
  };
  // nginx writes its own messages to error.log, not to its stdout/stderr.
  const output = () => {
    let log = '';
    try {
      log = readFileSync(temp('error.log'), 'utf8');
    } catch {
      // not written yet, or removed with the dir
    }
    return nginx.output() + log;
  };
  const failure = () => {
    if (signal?.aborted) return new Error('nginx-rtmp: stopped while starting');
    if (!nginx.running()) return new Error(`nginx exited: ${output().slice(-2000)}`);
    return undefined;
  };
  try {
    await waitFor('nginx-rtmp /stat', async () => (await stat()).includes('<rtmp>'), { timeoutMs: 15_000, intervalMs: 50, failure });
  } catch (error) {
    await stop();
    throw error;
  }

  const ffmpeg = programs.ffmpeg;
  const rtmpUrl = (stream: string) => `rtmp://127.0.0.1:${rtmpPort}/live/${stream}`;
  const startClient = async (stream: string, args: string[], listed: (block: string) => boolean, what: string) => {
    const client = startProcess(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { name: `ffmpeg ${what} ${stream}` });
    clients.add(client);
    void client.exited.then(() => clients.delete(client));
    const clientFailure = () =>
      failure() ?? (client.running() ? undefined : new Error(`ffmpeg (${what} of ${stream}) exited: ${client.output().slice(-2000)}`));
    await waitFor(
      `${what} ${stream} listed by nginx`,
      async () => {
        const block = streamBlock(await stat(), stream);
        return block !== undefined && listed(block);
      },
      { timeoutMs: 20_000, intervalMs: 100, failure: clientFailure },
    );
    return client;
  };

  return {
    address: `127.0.0.1:${rtmpPort}`,
    host: '127.0.0.1',
    rtmpPort,
    statUrl,
    rtmpUrl,
    publish: (stream, publishOptions = {}) => {
      const frameRate = publishOptions.frameRate ?? 25;
      const videoBitrate = publishOptions.videoBitrate ?? '300k';
      return startClient(
        stream,
        // A camera: a 320x240 test pattern and a tone, H.264 plus AAC, paced in real time (-re). lavfi sources
        // never end, so it publishes until stopped.
        [
          '-re',
          '-f',
          'lavfi',
          '-i',
          `testsrc=size=320x240:rate=${frameRate}`,
          '-f',
          'lavfi',
          '-i',
          'sine',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-b:v',
          videoBitrate,
          '-c:a',
          'aac',
          '-f',
          'flv',
          rtmpUrl(stream),
        ],
        (block) => block.includes('<publishing/>'),
        'publisher',
      );
    },
    async play(stream) {
      const clientCount = (block: string | undefined) => (block?.match(/<client>/g) ?? []).length;
      const clientsBefore = clientCount(streamBlock(await stat(), stream));
      // -c copy: a reader without decoding, nearly free.
      return startClient(
        stream,
        ['-i', rtmpUrl(stream), '-c', 'copy', '-f', 'null', '-'],
        (block) => clientCount(block) > clientsBefore,
        'player',
      );
    },
    stat,
    output,
    running: () => nginx.running(),
    stop,
  };
}
