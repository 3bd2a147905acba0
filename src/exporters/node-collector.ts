import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Socket } from 'node:net';
import type { InventoryMember } from '../inventory/inventory.js';
import type { Collector } from './collector.js';

/**
 * Member health without a protocol of its own (http, generic, and the default for other kinds): GET the member's
 * healthUrl (up when 2xx), or without one, up when a TCP connection to its address is accepted. No role is
 * reported (nothing live can be asked): the exporter labels the member with its inventory role.
 */
export function createNodeCollector(): Collector {
  return async (_cluster, member, signal) => {
    const up = member.healthUrl === undefined ? await tcpConnects(member, signal) : await healthy(member.healthUrl, signal);
    return [{ metric: 'remediator_member_up', labels: {}, value: up ? 1 : 0 }];
  };
}

/**
 * node:http on a connection of its own, not fetch: undici's pool opens a fresh connection to a member whose
 * request was just aborted, so every scrape of a hung member would leave one behind.
 */
function healthy(url: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // Redirects are not followed: a redirect is not the health URL answering, and often lands on a login page that says 200.
    const request = send(target, { method: 'GET', signal, agent: false, headers: { accept: '*/*' } }, (response) => {
      const status = response.statusCode ?? 0;
      // Only the status matters: drop the body and the connection.
      response.destroy();
      resolve(status >= 200 && status < 300);
    });
    request.on('error', () => {
      resolve(false);
    });
    request.end();
  });
}

function tcpConnects(member: InventoryMember, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (up: boolean) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(up);
    };
    const onAbort = () => {
      done(false);
    };
    if (signal.aborted) {
      done(false);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.connect(member.port, member.host);
  });
}
