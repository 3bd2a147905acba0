import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Sample } from '../../src/exporters/metric-catalogue.js';
import { createStreamCollector } from '../../src/exporters/stream-collector.js';
import type { InventoryCluster, InventoryMember } from '../../src/inventory/inventory.js';
import { startNginxRtmp, type TestNginxRtmp } from '../helpers/nginx-rtmp.js';
import { waitFor } from '../helpers/wait.js';

function memberOf(nginx: TestNginxRtmp, healthUrl = nginx.statUrl): { cluster: InventoryCluster; member: InventoryMember } {
  const member: InventoryMember = {
    name: 'ingest-a',
    address: nginx.address,
    host: nginx.host,
    port: nginx.rtmpPort,
    priority: 0,
    healthUrl,
    role: 'primary',
  };
  return { cluster: { name: 'cameras', kind: 'stream', members: [member] }, member };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function value(samples: Sample[], metric: Sample['metric'], stream?: string): number | undefined {
  return samples.find((sample) => sample.metric === metric && (stream === undefined || sample.labels.stream === stream))?.value;
}

/** A node:http server answering every request with `body` (a broken stats endpoint). */
async function answering(status: number, body: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stat`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('stream collector against a real nginx-rtmp with ffmpeg cameras', () => {
  let nginx: TestNginxRtmp;
  const collect = createStreamCollector();
  const scrape = () => {
    const { cluster, member } = memberOf(nginx);
    return collect(cluster, member, AbortSignal.timeout(5000));
  };
  before(async () => {
    nginx = await startNginxRtmp();
  });
  after(async () => {
    await nginx.stop();
  });

  test('a publishing camera is reported up with the bit rate nginx measures, and the ingest as up', async () => {
    await nginx.publish('cam1');
    // nginx-rtmp recomputes bw_in every 10 s, so the first non-zero figure can take that long.
    const samples = await waitFor(
      'a non-zero bit rate for cam1',
      async () => {
        const found = await scrape();
        return (value(found, 'remediator_stream_bitrate_bits_per_second', 'cam1') ?? 0) > 0 ? found : undefined;
      },
      30_000,
      500,
    );
    assert.equal(value(samples, 'remediator_stream_up', 'cam1'), 1);
    const bitrate = value(samples, 'remediator_stream_bitrate_bits_per_second', 'cam1') ?? 0;
    // ffmpeg sends ~300 kbit/s of video plus AAC audio.
    assert.ok(bitrate > 100_000 && bitrate < 2_000_000, `bitrate ${bitrate}`);
    assert.equal(value(samples, 'remediator_stream_readers', 'cam1'), 0);
    assert.deepEqual(
      samples.find((sample) => sample.metric === 'remediator_rtmp_handshake_success'),
      {
        metric: 'remediator_rtmp_handshake_success',
        labels: { cluster: 'cameras', instance: 'ingest-a' },
        value: 1,
      },
    );
    assert.deepEqual(
      samples.find((sample) => sample.metric === 'remediator_member_up'),
      {
        metric: 'remediator_member_up',
        labels: { cluster: 'cameras', instance: 'ingest-a', role: 'primary', service: 'stream' },
        value: 1,
      },
    );
    assert.deepEqual(samples.find((sample) => sample.metric === 'remediator_stream_up')?.labels, {
      cluster: 'cameras',
      instance: 'ingest-a',
      stream: 'cam1',
    });
  });

  test('a player reading the camera counts as one reader; the publisher does not count', async () => {
    await nginx.play('cam1');
    const samples = await scrape();
    assert.equal(value(samples, 'remediator_stream_readers', 'cam1'), 1);
    assert.equal(value(samples, 'remediator_stream_up', 'cam1'), 1);
  });

  test('a stream a player waits for but no camera publishes is reported down with its reader', async () => {
    await nginx.play('cam2');
    const samples = await scrape();
    assert.equal(value(samples, 'remediator_stream_up', 'cam2'), 0);
    assert.equal(value(samples, 'remediator_stream_readers', 'cam2'), 1);
    assert.equal(value(samples, 'remediator_stream_bitrate_bits_per_second', 'cam2'), 0);
  });

  test('when a camera stops publishing, its stream is no longer reported up', async (t) => {
    const publisher = await nginx.publish('cam3');
    await waitFor('cam3 up', async () => value(await scrape(), 'remediator_stream_up', 'cam3') === 1);
    await publisher.stop();
    // nginx drops a stream nobody publishes or plays, so it is either listed unpublished (0) or gone (no sample:
    // the exporter core resets its gauges every scrape, alerts use absent() and member_up).
    const samples = await waitFor('cam3 not up', async () => {
      const found = await scrape();
      return value(found, 'remediator_stream_up', 'cam3') !== 1 ? found : undefined;
    });
    const up = value(samples, 'remediator_stream_up', 'cam3');
    t.diagnostic(`cam3 after its publisher stopped: ${up === undefined ? 'not listed' : `up ${up}`}`);
    assert.ok(up === undefined || up === 0);
    assert.equal(value(samples, 'remediator_member_up'), 1, 'the ingest itself is still up');
  });

  test('a truncated /stat document rejects the collector with a message naming the URL', async () => {
    const xml = await nginx.stat();
    const broken = await answering(200, xml.slice(0, Math.floor(xml.length / 2)));
    try {
      const { cluster, member } = memberOf(nginx, broken.url);
      await assert.rejects(collect(cluster, member, AbortSignal.timeout(5000)), (error: Error) => {
        assert.match(error.message, new RegExp(`^stream stats at ${escape(broken.url)}: not well-formed XML \\(line \\d+\\): `));
        return true;
      });
    } finally {
      await broken.close();
    }
  });

  test('well-formed XML that is not an rtmp_stat document rejects with what is missing', async () => {
    const broken = await answering(200, '<html><body><h1>Welcome to nginx!</h1></body></html>');
    try {
      const { cluster, member } = memberOf(nginx, broken.url);
      await assert.rejects(collect(cluster, member, AbortSignal.timeout(5000)), /not an nginx-rtmp rtmp_stat document: .*rtmp/s);
    } finally {
      await broken.close();
    }
  });

  test('a /stat location that answers 404 rejects with the status', async () => {
    const broken = await answering(404, '<html><body>404 Not Found</body></html>');
    try {
      const { cluster, member } = memberOf(nginx, broken.url);
      await assert.rejects(collect(cluster, member, AbortSignal.timeout(5000)), {
        message: new RegExp(`^stream stats at ${escape(broken.url)} answered HTTP 404`),
      });
    } finally {
      await broken.close();
    }
  });

  test('when nginx stops, the handshake fails and the member is reported down without stream samples', async () => {
    await nginx.stop();
    const started = Date.now();
    const samples = await scrape();
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.deepEqual(samples, [
      { metric: 'remediator_rtmp_handshake_success', labels: { cluster: 'cameras', instance: 'ingest-a' }, value: 0 },
      {
        metric: 'remediator_member_up',
        labels: { cluster: 'cameras', instance: 'ingest-a', role: 'primary', service: 'stream' },
        value: 0,
      },
    ]);
  });
});
