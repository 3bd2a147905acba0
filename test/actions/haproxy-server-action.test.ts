import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ActionDefinition } from '../../src/core/action.js';
import { createHaproxyServerAction } from '../../src/actions/haproxy-server-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { freePort } from '../../src/util/free-port.js';
import { appError, runAction } from '../helpers/action-run.js';
import { parseServersState, runtimeCommand, startHaproxy, type TestHaproxy } from '../helpers/haproxy.js';
import { waitFor } from '../helpers/wait.js';

interface ServerOutput {
  backend: string;
  server: string;
  state: string;
  adminState: number;
  operationalState: string;
  weight: number;
}

const run = (action: ActionDefinition, withBlock: Record<string, unknown>, signal?: AbortSignal) =>
  runAction<ServerOutput>(action, withBlock, signal);

/** Which servers answered `count` requests through the frontend, with how many each. */
async function servedBy(haproxy: TestHaproxy, count: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const name = await haproxy.get();
    seen[name] = (seen[name] ?? 0) + 1;
  }
  return seen;
}

/** A TCP server that answers each runtime-API command with `answer(command)` and closes, like HAProxy. */
async function fakeRuntimeApi(
  answer: (command: string) => string | undefined,
): Promise<{ address: string; commands: string[]; close(): Promise<void> }> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let input = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      input += chunk;
      if (!input.endsWith('\n')) return;
      const command = input.trim();
      commands.push(command);
      const text = answer(command);
      // undefined: never answer (a hung peer).
      if (text !== undefined) socket.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    commands,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

const stateHeader =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';

describe('haproxy.server action against a real HAProxy', () => {
  const action = createHaproxyServerAction();
  let haproxy: TestHaproxy;

  before(async () => {
    haproxy = await startHaproxy();
  });
  after(async () => {
    await haproxy.stop();
  });
  beforeEach(async () => {
    // Every test starts from both servers ready with weight 1, whatever the previous one left.
    for (const server of ['s1', 's2']) {
      for (const command of [`set server app/${server} state ready`, `set server app/${server} weight 1`]) {
        assert.equal((await haproxy.command(command)).trim(), '', command);
      }
    }
  });

  test('drain through the unix socket sets the drain bit, reports it in the output, and new requests go to s2 only', async () => {
    const output = await run(action, { socket: haproxy.socket, backend: 'app', server: 's1', state: 'drain' });
    assert.deepEqual(output, { backend: 'app', server: 's1', state: 'drain', adminState: 8, operationalState: 'running', weight: 1 });
    const row = await haproxy.serverState('s1');
    assert.equal(row.srv_admin_state, '8', 'show servers state has the forced-drain bit');
    assert.equal((await haproxy.serverState('s2')).srv_admin_state, '0', 's2 is untouched');
    assert.deepEqual(await servedBy(haproxy, 6), { s2: 6 });
  });

  test('maint puts the server in forced maintenance and stops its traffic', async () => {
    const output = await run(action, { socket: haproxy.socket, backend: 'app', server: 's1', state: 'maint' });
    assert.equal(output.adminState & 0x01, 0x01);
    assert.equal(output.operationalState, 'stopped');
    assert.equal((await haproxy.serverState('s1')).srv_admin_state, '1');
    assert.deepEqual(await servedBy(haproxy, 6), { s2: 6 });
  });

  test('ready after maint re-enables the server so the frontend is served by both servers again', async () => {
    await run(action, { socket: haproxy.socket, backend: 'app', server: 's1', state: 'maint' });
    assert.deepEqual(await servedBy(haproxy, 4), { s2: 4 });
    const output = await run(action, { socket: haproxy.socket, backend: 'app', server: 's1', state: 'ready' });
    assert.equal(output.adminState, 0);
    assert.equal(output.operationalState, 'running');
    assert.equal((await haproxy.serverState('s1')).srv_admin_state, '0');
    // roundrobin may first let s1 catch up on the requests s2 took alone, so look at enough of them.
    const seen = await servedBy(haproxy, 40);
    assert.deepEqual(Object.keys(seen).sort(), ['s1', 's2'], JSON.stringify(seen));
  });

  test('setting the state the server already has succeeds again with the same output', async () => {
    const first = await run(action, { socket: haproxy.socket, backend: 'app', server: 's2', state: 'drain' });
    const second = await run(action, { socket: haproxy.socket, backend: 'app', server: 's2', state: 'drain' });
    assert.deepEqual(second, first);
    assert.equal(second.adminState, 8);
  });

  test('a weight is set with the state and read back from show servers state', async () => {
    const output = await run(action, { socket: haproxy.socket, backend: 'app', server: 's2', state: 'ready', weight: 3 });
    assert.equal(output.weight, 3);
    assert.equal((await haproxy.serverState('s2')).srv_uweight, '3');
  });

  test('weight 0 on a ready server takes it out of the rotation', async () => {
    const output = await run(action, { socket: haproxy.socket, backend: 'app', server: 's1', state: 'ready', weight: 0 });
    assert.equal(output.adminState, 0);
    assert.equal(output.weight, 0);
    assert.deepEqual(await servedBy(haproxy, 6), { s2: 6 });
  });

  test('the TCP admin address works like the unix socket', async () => {
    const output = await run(action, { address: haproxy.adminAddress, backend: 'app', server: 's2', state: 'maint', weight: 0 });
    assert.equal(output.adminState, 1);
    assert.equal(output.weight, 0);
    const row = await haproxy.serverState('s2');
    assert.equal(row.srv_admin_state, '1');
    assert.equal(row.srv_uweight, '0');
  });

  test("an unknown backend is a permanent error naming HAProxy's answer", async () => {
    await assert.rejects(
      run(action, { socket: haproxy.socket, backend: 'nope', server: 's1', state: 'drain' }),
      appError(errorCodes.STEP_PERMANENT, /No such backend/),
    );
  });

  test('an unknown server is a permanent error and changes no other server', async () => {
    await assert.rejects(
      run(action, { socket: haproxy.socket, backend: 'app', server: 's9', state: 'maint' }),
      appError(errorCodes.STEP_PERMANENT, /No such server/),
    );
    const rows = parseServersState(await haproxy.command('show servers state app'));
    assert.deepEqual(
      rows.map((row) => row.srv_admin_state),
      ['0', '0'],
    );
  });

  test('a server name carrying a second command is rejected by the schema, while HAProxy itself would have run it', () => {
    const injected = 's1;shutdown sessions server app/s2';
    const result = action.schema.safeParse({ socket: haproxy.socket, backend: 'app', server: injected, state: 'ready' });
    assert.ok(!result.success);
    assert.match(JSON.stringify(result.error.issues), /HAProxy identifier/);
    for (const bad of ['s1 s2', 's1\nset server app/s2 state maint', 's1\r', '', 'app/s1']) {
      assert.equal(
        action.schema.safeParse({ socket: haproxy.socket, backend: 'app', server: bad, state: 'ready' }).success,
        false,
        JSON.stringify(bad),
      );
      assert.equal(
        action.schema.safeParse({ socket: haproxy.socket, backend: bad, server: 's1', state: 'ready' }).success,
        false,
        JSON.stringify(bad),
      );
    }
  });

  test('the runtime API really runs what follows a ";" in one line, which is why names are restricted', async () => {
    const answer = await runtimeCommand({ path: haproxy.socket }, 'set server app/s1 state ready;set server app/s2 state maint');
    assert.equal(answer.trim(), '');
    assert.equal((await haproxy.serverState('s2')).srv_admin_state, '1', 'the command after ";" put s2 in maintenance');
  });

  test('a socket path where nothing listens is a transient error', async () => {
    await assert.rejects(
      run(action, { socket: `${haproxy.socket}.missing`, backend: 'app', server: 's1', state: 'drain' }),
      appError(errorCodes.STEP_FAILED, /cannot talk to HAProxy/),
    );
  });

  test('an address where nothing listens is a transient error', async () => {
    await assert.rejects(
      run(action, { address: `127.0.0.1:${await freePort()}`, backend: 'app', server: 's1', state: 'drain' }),
      appError(errorCodes.STEP_FAILED, /cannot talk to HAProxy/, /ECONNREFUSED/),
    );
  });
});

describe('haproxy.server action against a scripted runtime API', () => {
  const action = createHaproxyServerAction();

  test('a state HAProxy does not report after the change is a transient error', async () => {
    // Accepts every set but still reports s1 as ready (admin state 0).
    const api = await fakeRuntimeApi((command) =>
      command.startsWith('show servers state')
        ? `1\n${stateHeader}\n3 app 1 s1 127.0.0.1 2 0 1 1 6 1 0 2 0 0 0 0 - 80 - 0 0 - - 0\n\n`
        : '\n',
    );
    try {
      await assert.rejects(
        run(action, { address: api.address, backend: 'app', server: 's1', state: 'drain' }),
        appError(errorCodes.STEP_FAILED, /srv_admin_state 0 after setting drain/),
      );
      assert.deepEqual(api.commands, ['set server app/s1 state drain', 'show servers state app']);
    } finally {
      await api.close();
    }
  });

  test('a weight HAProxy does not report after the change is a transient error', async () => {
    const api = await fakeRuntimeApi((command) =>
      command.startsWith('show servers state')
        ? `1\n${stateHeader}\n3 app 1 s1 127.0.0.1 2 0 1 1 6 1 0 2 0 0 0 0 - 80 - 0 0 - - 0\n\n`
        : '\n',
    );
    try {
      await assert.rejects(
        run(action, { address: api.address, backend: 'app', server: 's1', state: 'ready', weight: 5 }),
        appError(errorCodes.STEP_FAILED, /weight 1 after setting 5/),
      );
      assert.deepEqual(api.commands, ['set server app/s1 state ready', 'set server app/s1 weight 5', 'show servers state app']);
    } finally {
      await api.close();
    }
  });

  test('columns are read by their header names, not by position', async () => {
    const api = await fakeRuntimeApi((command) =>
      command.startsWith('show servers state')
        ? '1\n# srv_uweight srv_name srv_admin_state be_name srv_op_state\n1 s1 0 app 2\n9 s2 8 app 0\n\n'
        : '\n',
    );
    try {
      const output = await run(action, { address: api.address, backend: 'app', server: 's2', state: 'drain', weight: 9 });
      assert.deepEqual(output, { backend: 'app', server: 's2', state: 'drain', adminState: 8, operationalState: 'stopped', weight: 9 });
    } finally {
      await api.close();
    }
  });

  test('any other answer to a set command is an error carrying the answer', async () => {
    const api = await fakeRuntimeApi((command) => (command.startsWith('set') ? 'Permission denied\n\n' : ''));
    try {
      await assert.rejects(
        run(action, { address: api.address, backend: 'app', server: 's1', state: 'drain' }),
        appError(errorCodes.STEP_PERMANENT, /refused "set server app\/s1 state drain": Permission denied/),
      );
    } finally {
      await api.close();
    }
    const odd = await fakeRuntimeApi(() => 'Something odd happened\n');
    try {
      await assert.rejects(
        run(action, { address: odd.address, backend: 'app', server: 's1', state: 'drain' }),
        appError(errorCodes.STEP_FAILED, /Something odd happened/),
      );
    } finally {
      await odd.close();
    }
  });

  test('a runtime API that never answers is a transient error after timeout', async () => {
    const api = await fakeRuntimeApi(() => undefined);
    try {
      await assert.rejects(
        run(action, { address: api.address, backend: 'app', server: 's1', state: 'drain', timeout: '300ms' }),
        appError(errorCodes.STEP_FAILED, /did not answer "set server app\/s1 state drain" within 300 ms/),
      );
    } finally {
      await api.close();
    }
  });

  test('an abort while waiting for an answer rejects with the abort reason and closes the connection', async () => {
    const api = await fakeRuntimeApi(() => undefined);
    try {
      const controller = new AbortController();
      const reason = new Error('step timed out');
      const running = run(
        action,
        { address: api.address, backend: 'app', server: 's1', state: 'drain', timeout: '60s' },
        controller.signal,
      );
      running.catch(() => undefined);
      // Abort once the command has arrived, i.e. while the action waits for the answer.
      await waitFor('the command to arrive', () => api.commands.length > 0, 2000, 10);
      assert.equal(api.commands.length, 1);
      controller.abort(reason);
      await assert.rejects(running, (error: unknown) => error === reason);
    } finally {
      await api.close();
    }
  });
});
