import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type TestProcess } from './child-process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** Debian's libnginx-mod-rtmp. */
const rtmpModule = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** A real nginx with the RTMP module on loopback: application `live`, and `rtmp_stat all` at /stat. */
export interface TestNginxRtmp {
  /** host:port of the RTMP ingest. */
  readonly address: string;
  readonly host: string;
  readonly rtmpPort: number;
  /** http://127.0.0.1:port/stat */
  readonly statUrl: string;
  /** Starts an ffmpeg camera publishing a test pattern to live/`stream`; resolves once nginx lists it publishing. */
  publish(stream: string): Promise<TestProcess>;
  /** Starts an ffmpeg player reading live/`stream` (it waits if nothing publishes yet); resolves once nginx lists it. */
  play(stream: string): Promise<TestProcess>;
  /** The current /stat XML. */
  stat(): Promise<string>;
  output(): string;
  /** Stops every ffmpeg started here, then nginx; safe to call twice. */
  stop(): Promise<void>;
}

/** The <stream> block of `stream` in a /stat document, if listed. */
function streamBlock(xml: string, stream: string): string | undefined {
  // rtmp_stat ends its lines with CRLF.
  return xml.split('<stream>').slice(1).find((block) => block.trimStart().startsWith(`<name>${stream}</name>`));
}

/** Starts nginx in the foreground (daemon off, master_process off) with everything it writes in a temp dir. */
export async function startNginxRtmp(): Promise<TestNginxRtmp> {
  const dir = await tempDir('remediator-nginx-rtmp-');
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const config = join(dir.path, 'nginx.conf');
  const temp = (name: string) => join(dir.path, name);
  await writeFile(
    config,
    `load_module ${rtmpModule};
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
`,
  );
  // -e: errors before the config is read (e.g. a bad config) go to the temp dir too, not /var/log/nginx.
  const nginx = startProcess('nginx', ['-p', dir.path, '-c', config, '-e', temp('error.log')]);
  const clients = new Set<TestProcess>();
  const statUrl = `http://127.0.0.1:${httpPort}/stat`;
  const stat = async () => {
    const response = await fetch(statUrl);
    if (!response.ok) throw new Error(`nginx /stat answered ${response.status}`);
    return response.text();
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...clients].map((client) => client.stop(2000)));
    await nginx.stop();
    await dir.remove();
  };
  // nginx writes its own messages to error.log, not to its stdout/stderr.
  const output = () => {
    let log = '';
    try {
      log = readFileSync(temp('error.log'), 'utf8');
    } catch {
      // not written yet, or removed by stop()
    }
    return nginx.output() + log;
  };
  const alive = () => {
    if (!nginx.running()) throw new Error(`nginx exited: ${output()}`);
  };
  try {
    await waitFor('nginx-rtmp /stat', async () => { alive(); return (await stat()).includes('<rtmp>'); }, 15_000, 50);
  } catch (error) {
    await stop();
    throw error;
  }

  const rtmpUrl = (stream: string) => `rtmp://127.0.0.1:${rtmpPort}/live/${stream}`;
  const startClient = async (stream: string, args: string[], listed: (block: string) => boolean, what: string) => {
    const client = startProcess('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args]);
    clients.add(client);
    void client.exited.then(() => clients.delete(client));
    await waitFor(`${what} ${stream} listed by nginx`, async () => {
      alive();
      if (!client.running()) throw new Error(`ffmpeg exited: ${client.output()}`);
      const block = streamBlock(await stat(), stream);
      return block !== undefined && listed(block);
    }, 20_000, 100);
    return client;
  };

  return {
    address: `127.0.0.1:${rtmpPort}`,
    host: '127.0.0.1',
    rtmpPort,
    statUrl,
    publish: (stream) =>
      startClient(
        stream,
        // A camera: 25 fps test pattern and a tone, H.264 at ~300 kbit/s plus AAC, paced in real time (-re).
        ['-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine',
          '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-b:v', '300k', '-c:a', 'aac', '-f', 'flv', rtmpUrl(stream)],
        (block) => block.includes('<publishing/>'),
        'publisher',
      ),
    async play(stream) {
      const clientCount = (block: string | undefined) => (block?.match(/<client>/g) ?? []).length;
      const clientsBefore = clientCount(streamBlock(await stat(), stream));
      return startClient(stream, ['-i', rtmpUrl(stream), '-f', 'null', '-'], (block) => clientCount(block) > clientsBefore, 'player');
    },
    stat,
    output,
    stop,
  };
}
