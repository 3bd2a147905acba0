import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseNginxRtmpStat } from '../../src/exporters/stream-nginx-rtmp.js';

// Recorded from nginx 1.22.1 / nginx-rtmp 1.1.4 (/stat with `rtmp_stat all`), with a second server block and
// application added: cam1 published and played, cam2 only awaited by a player, cam1 again in another application.
const recorded = `<?xml version="1.0" encoding="utf-8" ?>
<rtmp>
<nginx_version>1.22.1</nginx_version>
<nginx_rtmp_version>1.1.4</nginx_rtmp_version>
<built>Feb 13 2023 11:56:56</built>
<pid>15649</pid>
<uptime>21</uptime>
<naccepted>3</naccepted>
<bw_in>363888</bw_in>
<bytes_in>893453</bytes_in>
<bw_out>0</bw_out>
<bytes_out>24300</bytes_out>
<server>
<application>
<name>live</name>
<live>
<stream>
<name>cam1</name>
<time>19767</time><bw_in>392016</bw_in>
<bytes_in>893453</bytes_in>
<bw_out>0</bw_out>
<bytes_out>24300</bytes_out>
<bw_audio>77104</bw_audio>
<bw_video>314904</bw_video>
<client><id>5</id><address>127.0.0.1</address><time>2950</time><flashver>LNX 9,0,124,2</flashver><dropped>0</dropped><avsync>19760</avsync><timestamp>19760</timestamp><active/></client>
<client><id>2</id><address>127.0.0.1</address><time>19945</time><flashver>FMLE/3.0 (compatible; Lavf59.27</flashver><dropped>0</dropped><avsync>-23</avsync><timestamp>19783</timestamp><publishing/><active/></client>
<meta><video><width>320</width><height>240</height><frame_rate>25</frame_rate><codec>H264</codec><profile></profile><compat>0</compat><level>1.3</level></video><audio><codec>AAC</codec><profile>LC</profile><channels>1</channels><sample_rate>44100</sample_rate></audio></meta>
<nclients>2</nclients>
<publishing/>
<active/>
</stream>
<stream>
<name>cam2</name>
<time>2773</time><bw_in>0</bw_in>
<bytes_in>0</bytes_in>
<bw_out>0</bw_out>
<bytes_out>0</bytes_out>
<bw_audio>0</bw_audio>
<bw_video>0</bw_video>
<client><id>8</id><address>127.0.0.1</address><time>2946</time><flashver>LNX 9,0,124,2</flashver><dropped>0</dropped><avsync>0</avsync><timestamp>0</timestamp></client>
<nclients>1</nclients>
</stream>
<nclients>3</nclients>
</live>
</application>
<application>
<name>vod</name>
</application>
</server>
<server>
<application>
<name>backup</name>
<live>
<stream>
<name>cam1</name>
<time>100</time><bw_in>1000</bw_in>
<bytes_in>0</bytes_in>
<bw_out>0</bw_out>
<bytes_out>0</bytes_out>
<bw_audio>0</bw_audio>
<bw_video>0</bw_video>
<nclients>1</nclients>
<publishing/>
</stream>
<nclients>1</nclients>
</live>
</application>
</server>
</rtmp>
`;

describe('parseNginxRtmpStat', () => {
  test('a recorded document gives up, bit rate and readers per stream, names clashing across applications qualified', () => {
    assert.deepEqual(parseNginxRtmpStat(recorded), [
      { name: 'live/cam1', up: true, bitrateBitsPerSecond: 392_016, readers: 1 },
      { name: 'cam2', up: false, bitrateBitsPerSecond: 0, readers: 1 },
      // Publishing but not yet active (no media yet): not up.
      { name: 'backup/cam1', up: false, bitrateBitsPerSecond: 1000, readers: 0 },
    ]);
  });

  test('a server with no live streams gives no streams', () => {
    assert.deepEqual(
      parseNginxRtmpStat(
        '<rtmp><server>\n</server><server><application><name>live</name><live><nclients>0</nclients></live></application></server></rtmp>',
      ),
      [],
    );
  });

  test('a stream name made of digits stays a string', () => {
    const [stream] = parseNginxRtmpStat(
      '<rtmp><server><application><name>live</name><live><stream><name>0042</name><bw_in>8</bw_in><nclients>1</nclients><publishing/><active/></stream></live></application></server></rtmp>',
    );
    assert.equal(stream?.name, '0042');
  });

  test('a count that is not a number is rejected naming the field', () => {
    assert.throws(
      () =>
        parseNginxRtmpStat(
          '<rtmp><server><application><name>live</name><live><stream><name>cam1</name><bw_in>fast</bw_in><nclients>1</nclients></stream></live></application></server></rtmp>',
        ),
      { message: /not an nginx-rtmp rtmp_stat document: .*expected a whole number.*bw_in/s },
    );
  });

  test('text that is not XML is rejected as not well-formed', () => {
    assert.throws(() => parseNginxRtmpStat('{"streams": []}'), {
      name: 'StreamStatsInvalidError',
      message: /^not well-formed XML \(line 1\): /,
    });
  });
});
