import { z } from 'zod';
import type { StreamStat, StreamStatsSource } from './stream-stat.js';
import { StreamStatsInvalidError } from './stream-stats-error.js';
import { displayUrl, fetchStreamStats } from './stream-stats-fetch.js';

const byteCount = z.number().int().nonnegative();

/**
 * One path of GET /v3/paths/list. Older v3 servers say ready/bytesReceived; newer ones say online/inboundBytes and
 * keep the old names as deprecated aliases, so the new name wins and either is enough.
 */
const pathSchema = z
  .object({
    name: z.string().min(1),
    ready: z.boolean().optional(),
    online: z.boolean().optional(),
    bytesReceived: byteCount.optional(),
    inboundBytes: byteCount.optional(),
    readers: z.array(z.object({ type: z.string() })),
  })
  .transform((path, context) => {
    const up = path.online ?? path.ready;
    const bytes = path.inboundBytes ?? path.bytesReceived;
    if (up === undefined || bytes === undefined) {
      context.issues.push({
        code: 'custom',
        input: path,
        message: `path ${path.name} has neither ready/online or neither bytesReceived/inboundBytes`,
      });
      return z.NEVER;
    }
    return { name: path.name, up, bytes, readers: path.readers.length };
  });

/** A page of MediaMTX's v3 GET /v3/paths/list. */
export const mediamtxPathListSchema = z.object({
  itemCount: z.number().int().nonnegative(),
  pageCount: z.number().int().nonnegative(),
  items: z.array(pathSchema),
});

/** A path as the collector needs it: bytes is MediaMTX's running total of bytes received. */
export interface MediamtxPath {
  readonly name: string;
  readonly up: boolean;
  readonly bytes: number;
  readonly readers: number;
}

/** Parses one page of /v3/paths/list (JSON text); throws StreamStatsInvalidError for anything else. */
export function parseMediamtxPathList(text: string): { pageCount: number; paths: MediamtxPath[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new StreamStatsInvalidError(`not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = mediamtxPathListSchema.safeParse(body);
  if (!parsed.success) throw new StreamStatsInvalidError(`not a MediaMTX v3 path list: ${z.prettifyError(parsed.error)}`);
  return { pageCount: parsed.data.pageCount, paths: parsed.data.items };
}

/** The paths list URL of the API a health URL points into: whatever precedes /v3/ (a proxy prefix) is kept. */
export function mediamtxPathListUrl(healthUrl: URL): URL {
  const url = new URL(healthUrl.href);
  url.pathname = `${url.pathname.slice(0, url.pathname.indexOf('/v3/'))}/v3/paths/list`;
  return url;
}

const itemsPerPage = 1000;
/** Bounds the pages followed, should a server keep announcing more. */
const maxPages = 100;

/**
 * Reads MediaMTX's v3 API. MediaMTX gives only a running byte total, so the bit rate is the delta since this
 * source's previous read of the same path: 0 on the first read and after the total went backwards (path re-created
 * or server restarted). That memory lives in the source, one per collector; paths no longer listed are forgotten.
 */
export function createMediamtxSource(options: { fetch: typeof fetch; now: () => number }): StreamStatsSource {
  const previousByServer = new Map<string, Map<string, { bytes: number; at: number }>>();
  return async (healthUrl, signal) => {
    const listUrl = mediamtxPathListUrl(healthUrl);
    const paths = new Map<string, MediamtxPath>();
    for (let page = 0, pageCount = 1; page < pageCount && page < maxPages; page++) {
      const pageUrl = new URL(listUrl.href);
      pageUrl.searchParams.set('page', String(page));
      pageUrl.searchParams.set('itemsPerPage', String(itemsPerPage));
      const text = await fetchStreamStats(options.fetch, pageUrl, signal);
      let list: ReturnType<typeof parseMediamtxPathList>;
      try {
        list = parseMediamtxPathList(text);
      } catch (error) {
        if (error instanceof StreamStatsInvalidError)
          throw new StreamStatsInvalidError(`stream stats at ${displayUrl(pageUrl)}: ${error.message}`, { cause: error });
        throw error;
      }
      pageCount = list.pageCount;
      // A path may move between pages while they are read; by name it is counted once.
      for (const path of list.paths) paths.set(path.name, path);
    }

    const at = options.now();
    const key = displayUrl(listUrl);
    const previous = previousByServer.get(key) ?? new Map<string, { bytes: number; at: number }>();
    const current = new Map<string, { bytes: number; at: number }>();
    const stats: StreamStat[] = [];
    for (const path of paths.values()) {
      const before = previous.get(path.name);
      const seconds = before === undefined ? 0 : (at - before.at) / 1000;
      const bitrate =
        before !== undefined && seconds > 0 && path.bytes >= before.bytes ? Math.round(((path.bytes - before.bytes) * 8) / seconds) : 0;
      // Two reads in the same millisecond have no interval to divide by: keep the older reference point.
      current.set(path.name, before !== undefined && seconds <= 0 ? before : { bytes: path.bytes, at });
      stats.push({ name: path.name, up: path.up, bitrateBitsPerSecond: bitrate, readers: path.readers });
    }
    previousByServer.set(key, current);
    return stats;
  };
}
