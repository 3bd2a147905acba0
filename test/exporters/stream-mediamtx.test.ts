import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { Sample } from '../../src/exporters/metric-catalogue.js';
import { createStreamCollector } from '../../src/exporters/stream-collector.js';
import type { InventoryCluster, InventoryMember } from '../../src/inventory/inventory.js';
import { freePort } from '../../src/util/free-port.js';

// MediaMTX is not packaged here, so a node:http server stands in for its API. The payloads follow the v3
// GET /v3/paths/list shape (MediaMTX's apidocs/openapi.yaml): cam1 published over RTMP and read by an RTSP and a
// WebRTC client; cam2 configured but with no publisher.
const cam1 = {
  name: 'cam1',
  confName: 'all_others',
  source: { type: 'rtmpConn', id: '5b9c6a2e-2f0d-4c58-9d1a-5d6f0a1c9e21' },
  ready: true,
  readyTime: '2024-05-02T09:12:44.417339281Z',
  tracks: ['H264', 'MPEG-4 Audio'],
  bytesReceived: 1_000_000,
  bytesSent: 2_893_516,
  readers: [
    { type: 'rtspSession', id: '0d3c4a8e-7b1f-4f3e-8a55-2c9e6b1d7f40' },
    { type: 'webRTCSession', id: 'a4f2e1c7-3b8d-4e6a-9f10-6d2b8c5e3a71' },
  ],
};
const cam2 = {
  name: 'cam2',
  confName: 'cam2',
  source: null,
  ready: false,
  readyTime: null,
  tracks: [],
  bytesReceived: 0,
  bytesSent: 0,
  readers: [],
};

interface StandIn {
  /** The paths the next request lists; change it between scrapes. */
  items: unknown[];
  /** Answer with this raw body instead of a path list. */
  rawBody: string | undefined;
  readonly requests: { url: string; headers: IncomingHttpHeaders }[];
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves GET /v3/paths/list like MediaMTX: page and itemsPerPage (default 100) query parameters, 404 elsewhere. */
async function mediamtxStandIn(items: unknown[]): Promise<StandIn> {
  const standIn: StandIn = {
    items,
    rawBody: undefined,
    requests: [],
    origin: '',
    close: () => Promise.resolve(),
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    standIn.requests.push({ url: `${url.pathname}${url.search}`, headers: req.headers });
    if (url.pathname !== '/v3/paths/list') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (standIn.rawBody !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(standIn.rawBody);
      return;
    }
    const perPage = Number(url.searchParams.get('itemsPerPage') ?? '100');
    const page = Number(url.searchParams.get('page') ?? '0');
    const body = {
      itemCount: standIn.items.length,
      pageCount: Math.ceil(standIn.items.length / perPage),
      items: standIn.items.slice(page * perPage, (page + 1) * perPage),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(standIn, {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  });
}

/** A member whose RTMP port is closed (the stand-in has no RTMP side), with the API at `healthUrl`. */
async function memberAt(healthUrl: string): Promise<{ cluster: InventoryCluster; member: InventoryMember }> {
  const port = await freePort();
  const member: InventoryMember = { name: 'mtx-a', address: `127.0.0.1:${port}`, host: '127.0.0.1', port, priority: 0, healthUrl };
  return { cluster: { name: 'cameras', kind: 'stream', members: [member] }, member };
}

function streamValues(samples: Sample[], stream: string): Record<string, number> {
  return Object.fromEntries(samples.filter((sample) => sample.labels.stream === stream).map((sample) => [sample.metric, sample.value]));
}

/** A clock the test moves. */
function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('stream collector against the MediaMTX v3 API (node:http stand-in)', () => {
  test('a ready path is up with its readers, a path that is not ready is down, and the first scrape has no bit rate yet', async () => {
    const api = await mediamtxStandIn([cam1, cam2]);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      const samples = await createStreamCollector()(cluster, member, AbortSignal.timeout(5000));
      assert.deepEqual(streamValues(samples, 'cam1'), {
        remediator_stream_up: 1,
        remediator_stream_bitrate_bits_per_second: 0,
        remediator_stream_readers: 2,
      });
      assert.deepEqual(streamValues(samples, 'cam2'), {
        remediator_stream_up: 0,
        remediator_stream_bitrate_bits_per_second: 0,
        remediator_stream_readers: 0,
      });
      assert.deepEqual(samples.find((sample) => sample.metric === 'remediator_stream_up')?.labels, {
        cluster: 'cameras',
        instance: 'mtx-a',
        stream: 'cam1',
      });
      // The API answering does not make the ingest up: member_up follows the RTMP handshake (closed port here).
      assert.equal(samples.find((sample) => sample.metric === 'remediator_rtmp_handshake_success')?.value, 0);
      assert.deepEqual(
        samples.find((sample) => sample.metric === 'remediator_member_up'),
        {
          metric: 'remediator_member_up',
          labels: { cluster: 'cameras', instance: 'mtx-a', role: 'unknown', service: 'stream' },
          value: 0,
        },
      );
    } finally {
      await api.close();
    }
  });

  test('the bit rate is the bytesReceived delta between two scrapes over the time between them', async () => {
    const api = await mediamtxStandIn([cam1, cam2]);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      const clock = manualClock();
      const collect = createStreamCollector({ now: clock.now });
      await collect(cluster, member, AbortSignal.timeout(5000));
      clock.advance(10_000);
      // 375 000 bytes in 10 s = 300 000 bit/s.
      api.items = [{ ...cam1, bytesReceived: 1_375_000 }, cam2];
      const samples = await collect(cluster, member, AbortSignal.timeout(5000));
      assert.equal(streamValues(samples, 'cam1').remediator_stream_bitrate_bits_per_second, 300_000);
      assert.equal(streamValues(samples, 'cam2').remediator_stream_bitrate_bits_per_second, 0);
    } finally {
      await api.close();
    }
  });

  test('a byte total that went backwards (path re-created, server restarted) gives 0, then rates from the new total', async () => {
    const api = await mediamtxStandIn([cam1]);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      const clock = manualClock();
      const collect = createStreamCollector({ now: clock.now });
      await collect(cluster, member, AbortSignal.timeout(5000));
      clock.advance(5000);
      api.items = [{ ...cam1, bytesReceived: 50_000 }];
      assert.equal(
        streamValues(await collect(cluster, member, AbortSignal.timeout(5000)), 'cam1').remediator_stream_bitrate_bits_per_second,
        0,
      );
      clock.advance(5000);
      api.items = [{ ...cam1, bytesReceived: 100_000 }];
      assert.equal(
        streamValues(await collect(cluster, member, AbortSignal.timeout(5000)), 'cam1').remediator_stream_bitrate_bits_per_second,
        80_000,
      );
    } finally {
      await api.close();
    }
  });

  test('each collector keeps its own byte memory: a new collector starts at 0', async () => {
    const api = await mediamtxStandIn([cam1]);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      const clock = manualClock();
      await createStreamCollector({ now: clock.now })(cluster, member, AbortSignal.timeout(5000));
      clock.advance(10_000);
      api.items = [{ ...cam1, bytesReceived: 2_000_000 }];
      const samples = await createStreamCollector({ now: clock.now })(cluster, member, AbortSignal.timeout(5000));
      assert.equal(streamValues(samples, 'cam1').remediator_stream_bitrate_bits_per_second, 0);
    } finally {
      await api.close();
    }
  });

  test('the newer names online and inboundBytes are read when the deprecated ready and bytesReceived are gone', async () => {
    const newer = (bytes: number) => ({
      name: 'cam1',
      confName: 'all_others',
      source: { type: 'rtmpConn', id: 'c1' },
      available: true,
      availableTime: '2025-01-01T00:00:00Z',
      online: true,
      onlineTime: '2025-01-01T00:00:00Z',
      tracks2: [{ codec: 'H264', codecProps: null }],
      inboundBytes: bytes,
      inboundFramesInError: 0,
      outboundBytes: 0,
      readers: [{ type: 'hlsMuxer', id: '' }],
    });
    const api = await mediamtxStandIn([newer(0)]);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      const clock = manualClock();
      const collect = createStreamCollector({ now: clock.now });
      await collect(cluster, member, AbortSignal.timeout(5000));
      clock.advance(2000);
      api.items = [newer(100_000)];
      assert.deepEqual(streamValues(await collect(cluster, member, AbortSignal.timeout(5000)), 'cam1'), {
        remediator_stream_up: 1,
        remediator_stream_bitrate_bits_per_second: 400_000,
        remediator_stream_readers: 1,
      });
    } finally {
      await api.close();
    }
  });

  test('every page of a long path list is read', async () => {
    const paths = Array.from({ length: 1500 }, (_, index) => ({ ...cam2, name: `cam${index}` }));
    const api = await mediamtxStandIn(paths);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      const samples = await createStreamCollector()(cluster, member, AbortSignal.timeout(5000));
      const streams = new Set(samples.filter((sample) => sample.metric === 'remediator_stream_up').map((sample) => sample.labels.stream));
      assert.equal(streams.size, 1500);
      assert.ok(streams.has('cam0') && streams.has('cam1499'));
      assert.equal(api.requests.length, 2);
    } finally {
      await api.close();
    }
  });

  test('a health URL anywhere under /v3/ reads /v3/paths/list, sending its user and password as Basic auth', async () => {
    const api = await mediamtxStandIn([cam1]);
    try {
      const { cluster, member } = await memberAt(`${api.origin.replace('//', '//api:s3cret@')}/v3/config/global/get`);
      const samples = await createStreamCollector()(cluster, member, AbortSignal.timeout(5000));
      assert.equal(streamValues(samples, 'cam1').remediator_stream_up, 1);
      assert.equal(api.requests[0]?.url, '/v3/paths/list?page=0&itemsPerPage=1000');
      assert.equal(api.requests[0].headers.authorization, `Basic ${Buffer.from('api:s3cret').toString('base64')}`);
    } finally {
      await api.close();
    }
  });

  test('an invalid path list rejects with a message naming the URL and the field, without the password', async () => {
    const api = await mediamtxStandIn([{ ...cam1, ready: 'yes' }]);
    try {
      const { cluster, member } = await memberAt(`${api.origin.replace('//', '//api:s3cret@')}/v3/paths/list`);
      await assert.rejects(createStreamCollector()(cluster, member, AbortSignal.timeout(5000)), (error: Error) => {
        assert.equal(error.name, 'StreamStatsInvalidError');
        assert.ok(
          error.message.startsWith(`stream stats at ${api.origin}/v3/paths/list?page=0&itemsPerPage=1000: not a MediaMTX v3 path list:`),
          error.message,
        );
        assert.match(error.message, /items\[0\]\.ready/);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      });
    } finally {
      await api.close();
    }
  });

  test('a path with neither ready nor online is rejected rather than guessed', async () => {
    const { ready: _ready, ...withoutReady } = cam1;
    const api = await mediamtxStandIn([withoutReady]);
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      await assert.rejects(createStreamCollector()(cluster, member, AbortSignal.timeout(5000)), {
        message: /path cam1 has neither ready\/online/,
      });
    } finally {
      await api.close();
    }
  });

  test('a body that is not JSON rejects clearly', async () => {
    const api = await mediamtxStandIn([]);
    api.rawBody = '<html>502 Bad Gateway</html>';
    try {
      const { cluster, member } = await memberAt(`${api.origin}/v3/paths/list`);
      await assert.rejects(createStreamCollector()(cluster, member, AbortSignal.timeout(5000)), {
        name: 'StreamStatsInvalidError',
        message: /: not JSON: /,
      });
    } finally {
      await api.close();
    }
  });
});
