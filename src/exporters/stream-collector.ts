import type { InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import type { Collector } from './collector.js';
import type { Sample } from './metric-catalogue.js';
import { probeRtmpHandshake } from './rtmp-handshake.js';
import { createMediamtxSource } from './stream-mediamtx.js';
import { createNginxRtmpSource } from './stream-nginx-rtmp.js';
import type { StreamStat, StreamStatsSource } from './stream-stat.js';
import { StreamStatsUnreachableError } from './stream-stats-error.js';
import { displayUrl } from './stream-stats-fetch.js';

export interface StreamCollectorOptions {
  fetch?: typeof fetch;
  /** Clock for MediaMTX bit rates (ms). */
  now?: () => number;
}

/**
 * Creates the collector for kind 'stream'. Every member gets an RTMP handshake probe of its address (the ingest
 * port cameras push to): remediator_rtmp_handshake_success, and remediator_member_up from the same result, since
 * cameras lose their connection exactly when that fails. A healthUrl adds per-stream samples: one ending in /stat
 * is read as nginx-rtmp's rtmp_stat, one containing /v3/ as MediaMTX's API; without one there are none.
 *
 * A stats endpoint that does not answer (refused, timed out, `signal` aborted) only drops the stream samples: the
 * handshake already says whether the server is down, and a blocked stats port must not mark a working ingest
 * down. An answer that is not what the server kind says (HTTP error, malformed XML/JSON, wrong shape) rejects with
 * a message naming the URL. Both probes run in parallel and are settled before the collector settles.
 */
export function createStreamCollector(options: StreamCollectorOptions = {}): Collector {
  const doFetch = options.fetch ?? fetch;
  // One of each per collector: the MediaMTX source remembers byte totals between scrapes.
  const nginxRtmp = createNginxRtmpSource({ fetch: doFetch });
  const mediamtx = createMediamtxSource({ fetch: doFetch, now: options.now ?? Date.now });

  const sourceFor = (cluster: InventoryCluster, member: InventoryMember): { source: StreamStatsSource; url: URL } | undefined => {
    if (member.healthUrl === undefined) return undefined;
    const url = new URL(member.healthUrl);
    if (url.pathname.endsWith('/stat')) return { source: nginxRtmp, url };
    if (url.pathname.includes('/v3/')) return { source: mediamtx, url };
    throw new Error(
      `stream member ${member.name} of cluster ${cluster.name}: cannot tell the stream server from healthUrl ${displayUrl(url)}: ` +
        'expected nginx-rtmp’s rtmp_stat location (…/stat) or MediaMTX’s API (…/v3/paths/list)',
    );
  };

  return async (cluster, member, signal) => {
    const stats = sourceFor(cluster, member);
    const [handshake, streams] = await Promise.all([
      probeRtmpHandshake(member.host, member.port, signal),
      (stats?.source(stats.url, signal) ?? Promise.resolve([])).then(
        (found): { ok: true; found: StreamStat[] } => ({ ok: true, found }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ]);
    if (!streams.ok && !(streams.error instanceof StreamStatsUnreachableError)) throw streams.error;

    const up = handshake ? 1 : 0;
    const samples: Sample[] = [
      { metric: 'remediator_rtmp_handshake_success', labels: { cluster: cluster.name, instance: member.name }, value: up },
      {
        metric: 'remediator_member_up',
        labels: { cluster: cluster.name, instance: member.name, role: member.role ?? 'unknown', service: 'stream' },
        value: up,
      },
    ];
    for (const stream of streams.ok ? streams.found : []) {
      const labels = { cluster: cluster.name, instance: member.name, stream: stream.name };
      samples.push(
        { metric: 'remediator_stream_up', labels, value: stream.up ? 1 : 0 },
        { metric: 'remediator_stream_bitrate_bits_per_second', labels, value: stream.bitrateBitsPerSecond },
        { metric: 'remediator_stream_readers', labels, value: stream.readers },
      );
    }
    return samples;
  };
}
