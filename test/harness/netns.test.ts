import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createNetLab, removeStaleNamespaces, type NetLab } from '../../tools/harness/netns.js';
import { startProcess, type HarnessProcess } from '../../tools/harness/process.js';
import { repoRoot } from '../../tools/harness/repo-root.js';
import { waitFor } from '../../tools/harness/wait.js';

const run = promisify(execFile);
const echo = join(repoRoot, 'test', 'harness', 'fixtures', 'tcp-echo.ts');
const port = 7000;
const namespaces = async () => (await run('ip', ['netns', 'list'])).stdout;

describe('the partition harness (network namespaces, iptables inside them)', () => {
  let lab: NetLab;
  const servers: HarnessProcess[] = [];
  /** One echo round trip from `from` to `to`'s echo server: its time in ms, or undefined when it fails. */
  const probe = async (from: string, to: string, timeoutMs = 1500): Promise<number | undefined> => {
    const wrapped = lab.command(from, process.execPath, [
      '--import',
      'tsx',
      echo,
      'probe',
      lab.address(to),
      String(port),
      String(timeoutMs),
    ]);
    const { stdout } = await run(wrapped.command, wrapped.args, { cwd: repoRoot, timeout: timeoutMs + 10_000 });
    const result = JSON.parse(stdout) as { ok: boolean; ms?: number };
    return result.ok ? result.ms : undefined;
  };
  const reaches = async (from: string, to: string) => (await probe(from, to)) !== undefined;

  before(async () => {
    lab = await createNetLab({ nodes: ['a', 'b'], host: 'monitor' });
    for (const node of ['a', 'b', 'monitor']) {
      const server = lab.spawn(node, process.execPath, ['--import', 'tsx', echo, 'serve', lab.address(node), String(port)], {
        cwd: repoRoot,
      });
      servers.push(server);
      await waitFor(`the echo in ${node}`, () => server.output().includes('listening'), { timeoutMs: 15_000, processes: [server] });
    }
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await lab.stop();
  });

  test('every node has its own address in one private /24 and reaches every other', async () => {
    assert.match(lab.subnet, /^10\.\d+\.\d+\.0\/24$/);
    const prefix = lab.subnet.split('.').slice(0, 3).join('.');
    assert.deepEqual(
      ['a', 'b', 'monitor'].map((node) => lab.address(node).startsWith(`${prefix}.`)),
      [true, true, true],
    );
    assert.equal(new Set(['a', 'b', 'monitor'].map((node) => lab.address(node))).size, 3);
    assert.equal(lab.namespace('monitor'), undefined, 'the monitor is the host namespace');
    assert.match(lab.namespace('a') ?? '', new RegExp(`^rmd${process.pid}x\\d+$`));
    assert.deepEqual(await Promise.all([reaches('a', 'b'), reaches('b', 'a'), reaches('monitor', 'a'), reaches('a', 'monitor')]), [
      true,
      true,
      true,
      true,
    ]);
  });

  test('a cut separates two nodes both ways and leaves the others; a heal joins them again', async () => {
    await lab.cut('a', 'b');
    assert.deepEqual(await Promise.all([reaches('a', 'b'), reaches('b', 'a'), reaches('monitor', 'a'), reaches('monitor', 'b')]), [
      false,
      false,
      true,
      true,
    ]);
    await lab.heal('a', 'b');
    assert.deepEqual(await Promise.all([reaches('a', 'b'), reaches('b', 'a')]), [true, true]);
  });

  test('a cut between a member and the host needs no rule in the host namespace', async () => {
    const hostRules = (await run('iptables', ['-S'])).stdout;
    await lab.cut('monitor', 'a');
    assert.deepEqual(await Promise.all([reaches('monitor', 'a'), reaches('a', 'monitor'), reaches('a', 'b')]), [false, false, true]);
    assert.equal((await run('iptables', ['-S'])).stdout, hostRules, "the host's own table is untouched");
    await lab.heal('a', 'monitor');
    assert.equal(await reaches('monitor', 'a'), true);
  });

  test('an isolated node loses everyone until it rejoins', async () => {
    await lab.isolate('a');
    assert.deepEqual(await Promise.all([reaches('monitor', 'a'), reaches('b', 'a'), reaches('a', 'b'), reaches('monitor', 'b')]), [
      false,
      false,
      false,
      true,
    ]);
    await lab.rejoin('a');
    assert.deepEqual(await Promise.all([reaches('monitor', 'a'), reaches('b', 'a')]), [true, true]);
  });

  test('a lossy link delays every round trip through the proxy and drops a share of the packets', async () => {
    const before = await probe('monitor', 'a');
    assert.ok(before !== undefined && before < 200, `a round trip takes ${before} ms before`);
    await lab.lossy('a', 'monitor', { loss: 0.3, delayMs: 200, ports: [port] });
    const times: (number | undefined)[] = [];
    for (let round = 0; round < 8; round++) times.push(await probe('monitor', 'a', 8000));
    const answered = times.filter((ms): ms is number => ms !== undefined);
    assert.ok(answered.length > 0, `some round trips get through: ${times.join(', ')}`);
    // Request and reply each wait 200 ms in the proxy.
    assert.ok(
      answered.every((ms) => ms >= 400),
      `every round trip took ≥ 400 ms: ${answered.join(', ')}`,
    );
    const wrapped = lab.command('a', 'iptables', ['-w', '-t', 'filter', '-L', 'INPUT', '-v', '-n', '-x']);
    const counters = (await run(wrapped.command, wrapped.args)).stdout;
    const dropped = /^\s*(\d+)\s+\d+\s+DROP.*statistic mode random/m.exec(counters)?.[1];
    assert.ok(Number(dropped) > 0, `the random DROP matched packets:\n${counters}`);
    const direct = await probe('b', 'a');
    assert.ok(direct !== undefined && direct < 200, `b, not in the fault, still reaches a in ${direct} ms`);
    await lab.heal('a', 'monitor');
    const healed = await probe('monitor', 'a');
    assert.ok(healed !== undefined && healed < 200, `a round trip takes ${healed} ms after the heal`);
  });

  test('stop removes every namespace and the host link, and a later lab removes the namespaces of a dead run', async () => {
    const other = await createNetLab({ nodes: ['x'], host: 'h' });
    const mine = other.namespace('x') ?? '';
    assert.match(await namespaces(), new RegExp(mine));
    await other.stop();
    await other.stop();
    assert.doesNotMatch(await namespaces(), new RegExp(`${mine}\\b`));
    // A namespace named after a pid that has exited: what a killed run leaves behind.
    const gone = startProcess('true', []);
    await gone.exited;
    const stale = `rmd${gone.pid}x0`;
    await run('ip', ['netns', 'add', stale]);
    assert.deepEqual(await removeStaleNamespaces(), [stale]);
    assert.doesNotMatch(await namespaces(), new RegExp(`${stale}\\b`));
  });
});
