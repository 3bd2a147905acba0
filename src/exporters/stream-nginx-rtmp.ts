import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import type { StreamStat, StreamStatsSource } from './stream-stat.js';
import { StreamStatsInvalidError } from './stream-stats-error.js';
import { displayUrl, fetchStreamStats } from './stream-stats-fetch.js';

// Tag values stay strings (parseTagValue off) so that a stream named "0123" keeps its name; numbers are checked here.
const count = z.string().regex(/^\d+$/, 'expected a whole number').transform(Number);
// rtmp_stat writes <publishing/> and <active/> only when true; the parser turns an empty element into "".
const presence = z
  .string()
  .optional()
  .transform((value) => value !== undefined);

const streamSchema = z.object({
  name: z.string().min(1),
  bw_in: count,
  nclients: count,
  publishing: presence,
  active: presence,
});

const applicationSchema = z.object({
  name: z.string().min(1),
  // Only applications with `live on` have <live>.
  live: z.object({ stream: z.array(streamSchema).default([]) }).optional(),
});

/** The part of nginx-rtmp's rtmp_stat XML (after parsing) the collector uses. */
export const nginxRtmpStatSchema = z.object({
  rtmp: z.object({
    server: z
      .array(
        z.union([
          // A server block without applications prints an empty <server>.
          z.literal('').transform(() => ({ application: [] })),
          z.object({ application: z.array(applicationSchema).default([]) }),
        ]),
      )
      .default([]),
  }),
});

const repeatedElements = new Set(['rtmp.server', 'rtmp.server.application', 'rtmp.server.application.live.stream']);

/**
 * Parses nginx-rtmp's /stat XML into one StreamStat per live stream. `bw_in` is nginx's own incoming bit rate,
 * recomputed every 10 s, so a new stream reads 0 for up to 10 s. Up means publishing and active (media flowing),
 * readers are nclients minus the publisher. A stream only a player waits for is listed unpublished: up 0. A stream
 * nobody publishes or plays is not listed at all, so it cannot be reported (alert on absent() or member_up).
 * Names are unique per application; a name used in two applications is labelled application/name in both.
 * Throws StreamStatsInvalidError for anything that is not such a document.
 */
export function parseNginxRtmpStat(xml: string): StreamStat[] {
  // The parser alone accepts a truncated document (an empty <server>, no streams) without complaint, so the text is
  // validated first. fast-xml-parser now points to its sibling package fast-xml-validator for this; until that is a
  // dependency, the validator it still ships does the same job.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new StreamStatsInvalidError(`not well-formed XML (line ${valid.err.line}): ${valid.err.msg}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: true,
    parseTagValue: false,
    jPath: true, // isArray gets the path as a string
    isArray: (_name, path) => typeof path === 'string' && repeatedElements.has(path),
  });
  const parsed = nginxRtmpStatSchema.safeParse(parser.parse(xml));
  if (!parsed.success) throw new StreamStatsInvalidError(`not an nginx-rtmp rtmp_stat document: ${z.prettifyError(parsed.error)}`);

  const found = parsed.data.rtmp.server.flatMap((server) =>
    server.application.flatMap((application) =>
      (application.live?.stream ?? []).map((stream) => ({ application: application.name, stream })),
    ),
  );
  const uses = new Map<string, number>();
  for (const { stream } of found) uses.set(stream.name, (uses.get(stream.name) ?? 0) + 1);
  return found.map(({ application, stream }) => {
    const publishing = stream.publishing;
    return {
      name: (uses.get(stream.name) ?? 0) > 1 ? `${application}/${stream.name}` : stream.name,
      up: publishing && stream.active,
      bitrateBitsPerSecond: stream.bw_in,
      readers: Math.max(0, stream.nclients - (publishing ? 1 : 0)),
    };
  });
}

/** Reads nginx-rtmp's /stat (location with `rtmp_stat all;`). */
export function createNginxRtmpSource(options: { fetch: typeof fetch }): StreamStatsSource {
  return async (url, signal) => {
    const body = await fetchStreamStats(options.fetch, url, signal);
    try {
      return parseNginxRtmpStat(body);
    } catch (error) {
      if (error instanceof StreamStatsInvalidError)
        throw new StreamStatsInvalidError(`stream stats at ${displayUrl(url)}: ${error.message}`, { cause: error });
      throw error;
    }
  };
}
