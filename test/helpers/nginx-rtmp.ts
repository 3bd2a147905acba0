// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { startNginxRtmp, type NginxRtmp as TestNginxRtmp } from '../../tools/harness/nginx-rtmp.js';
