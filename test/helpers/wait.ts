/** Tests wait the way the lab does. */
export { waitUntil as waitFor } from '../../src/util/wait-until.js';
