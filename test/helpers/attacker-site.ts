import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Another web site on this machine, serving the pages a test puts in `pages` (path → HTML). */
export interface AttackerSite {
  url: string;
  pages: Map<string, string>;
  server: Server;
}

/** The HTML of a page that submits a form to `action` as soon as it loads: the classic cross-site request forgery. */
export function formPage(action: string, enctype: string): string {
  // With text/plain the body reads `{"comment":"x","pad":"="}`: JSON, if the server does not look at the type.
  return `<!doctype html><form id="f" method="POST" action="${action}" enctype="${enctype}">
<input type="hidden" name='{"comment":"x","pad":"' value='"}'></form>
<script>document.getElementById('f').submit();</script>`;
}

/** A second web server, on another loopback address: another site, as far as the browser is concerned. */
export async function startAttacker(): Promise<AttackerSite> {
  const pages = new Map<string, string>();
  const server = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    res.writeHead(page === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page ?? 'no such page');
  });
  // Linux routes all of 127/8 to lo: 127.0.0.2 is another host name, hence another site, on this machine.
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  return { url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, pages, server };
}
