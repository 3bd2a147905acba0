import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  chooseSubnet,
  cutRules,
  delayRules,
  hasNetAdmin,
  hostAddress,
  isolateRules,
  lossRules,
  namespaceName,
  ruleArgs,
  staleNamespaces,
  type Rule,
} from './netns-plan.js';
import { startProcess, type HarnessProcess, type StartProcessOptions } from './process.js';
import { repoRoot } from './repo-root.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);
const ip = '/usr/sbin/ip';
/** Debian package `iptables`. */
const iptables = '/usr/sbin/iptables';
/** The interface of every member inside its namespace. */
const iface = 'eth0';

/** Why namespaces cannot be made here. */
export type NetnsUnavailableReason = 'no-cap-net-admin' | 'netns-refused' | 'missing-program';

/** The partition lab cannot run here: no CAP_NET_ADMIN (not root), `ip netns add` refused, or ip/iptables missing. */
export class NetnsUnavailableError extends Error {
  constructor(
    readonly reason: NetnsUnavailableReason,
    detail: string,
  ) {
    super(`network namespaces are unavailable (${reason}): ${detail}`);
    this.name = this.constructor.name;
  }
}

/** A fault between two nodes, or on one, as rules in the namespaces of the members involved. */
interface Fault {
  key: string;
  nodes: string[];
  rules: { node: string; rule: Rule }[];
  processes: HarnessProcess[];
}

/** Latency and loss between two nodes ({@link NetLab.lossy}). */
export interface LossyOptions {
  /** Probability (0–1] that a packet, each way, is dropped. */
  loss?: number;
  /** Added to each direction of TCP connections from `b` to `ports` on `a` (a delaying proxy in `a`'s namespace). */
  delayMs?: number;
  /** The TCP ports on `a` that `b` connects to, for the delay. */
  ports?: readonly number[];
}

/**
 * Nodes on one bridge, each a network namespace with one address (the `host` node, when named, is this process's
 * own namespace joined to the bridge), and faults between them as iptables rules inside the members' namespaces
 * (never the host's tables).
 */
export interface NetLab {
  /** The lab's private 10.x.y.0/24. */
  readonly subnet: string;
  readonly nodes: readonly string[];
  /** The node's address in the subnet. */
  address(node: string): string;
  /** The node's namespace; undefined for the host node. */
  namespace(node: string): string | undefined;
  /** `command args` wrapped to run inside the node's namespace (`ip netns exec` execs: the pid is the command's). */
  command(node: string, command: string, args: readonly string[]): { command: string; args: string[] };
  /** Starts a process inside the node's namespace. */
  spawn(node: string, command: string, args: readonly string[], options?: StartProcessOptions): HarnessProcess;
  /** Nothing passes between `a` and `b`, either way. */
  cut(a: string, b: string): Promise<void>;
  /** Removes every fault between `a` and `b` (cut and lossy). */
  heal(a: string, b: string): Promise<void>;
  /** `node` loses every other node. */
  isolate(node: string): Promise<void>;
  /** Undoes `isolate(node)`. */
  rejoin(node: string): Promise<void>;
  /** Random loss and added latency between `a` (a namespace: it holds the rules and the proxy) and `b`. */
  lossy(a: string, b: string, options: LossyOptions): Promise<void>;
  /** Removes every fault. */
  healAll(): Promise<void>;
  /** Removes every fault, kills what still runs in the namespaces and deletes them; safe to call twice. */
  stop(): Promise<void>;
}

/** What {@link createNetLab} builds. */
export interface NetLabOptions {
  /** The node names, each its own namespace (and the host, when named as `host`). */
  nodes: readonly string[];
  /** A node that is this process's own (root) namespace, e.g. a monitor whose servers listen on 127.0.0.1 too. */
  host?: string;
}

let made = 0;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function sh(command: string, args: readonly string[]): Promise<string> {
  try {
    return (await run(command, args, { timeout: 10_000 })).stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')}: ${failure.stderr?.trim() || failure.message}`, { cause: error });
  }
}

/** Throws NetnsUnavailableError when this process lacks CAP_NET_ADMIN or the programs. */
async function checkCapability(): Promise<void> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  if (!hasNetAdmin(status)) {
    const uid = process.getuid?.();
    throw new NetnsUnavailableError('no-cap-net-admin', `this process (uid ${uid ?? '?'}) lacks CAP_NET_ADMIN: run as root`);
  }
  for (const program of [ip, iptables]) {
    await sh(program, ['-V']).catch(() => {
      throw new NetnsUnavailableError('missing-program', `${program} is missing (Debian packages iproute2, iptables)`);
    });
  }
}

/** Deletes namespaces left by a run whose process died, and anything still running inside them. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const names = (await sh(ip, ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0] ?? '');
  const stale = staleNamespaces(names, alive);
  for (const name of stale) await deleteNamespace(name);
  return stale;
}

async function deleteNamespace(name: string): Promise<void> {
  const pids = (await sh(ip, ['netns', 'pids', name]).catch(() => '')).split('\n').filter((line) => /^\d+$/.test(line));
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await sh(ip, ['netns', 'del', name]).catch(() => undefined);
}

async function hostRoutes(): Promise<string[]> {
  const routes = JSON.parse(await sh(ip, ['-j', '-4', 'route', 'show', 'table', 'all'])) as { dst?: string }[];
  return routes.map((route) => route.dst ?? 'default');
}

/**
 * Builds the lab: a switch namespace holding a bridge, and per node a namespace with a veth pair to the bridge and
 * one address. The bridge lives in its own namespace rather than the host's so that deleting that one namespace
 * takes the bridge and every veth pair with it, whatever state a failed run left. On failure it removes what it made.
 */
export async function createNetLab(options: NetLabOptions): Promise<NetLab> {
  await checkCapability();
  await removeStaleNamespaces();
  const fresh = () => namespaceName(process.pid, made++);
  const nodes = [...options.nodes, ...(options.host === undefined || options.nodes.includes(options.host) ? [] : [options.host])];
  const subnet = chooseSubnet(await hostRoutes(), Math.random);
  const switchNs = fresh();
  const namespaces = new Map(nodes.filter((node) => node !== options.host).map((node) => [node, fresh()]));
  const hostLink = fresh();
  const addresses = new Map(nodes.map((node, index) => [node, hostAddress(subnet, index + 1)]));
  const created: string[] = [];
  const faults: Fault[] = [];
  let proxyPort = 47_000;

  const known = (node: string) => {
    const address = addresses.get(node);
    if (address === undefined) throw new Error(`the lab has no node ${node}`);
    return address;
  };
  const inNs = (node: string, command: string, args: readonly string[]) => {
    known(node);
    const ns = namespaces.get(node);
    return ns === undefined ? { command, args: [...args] } : { command: ip, args: ['netns', 'exec', ns, command, ...args] };
  };
  const apply = async (operation: '-A' | '-D', node: string, rule: Rule) => {
    const wrapped = inNs(node, iptables, ruleArgs(operation, rule));
    await sh(wrapped.command, wrapped.args);
  };
  const add = async (fault: Fault) => {
    faults.push(fault);
    for (const { node, rule } of fault.rules) await apply('-A', node, rule);
  };
  const remove = async (fault: Fault) => {
    faults.splice(faults.indexOf(fault), 1);
    for (const { node, rule } of [...fault.rules].reverse()) await apply('-D', node, rule).catch(() => undefined);
    await Promise.all(fault.processes.map((process) => process.stop(2000)));
  };
  const members = (...names: string[]) => names.filter((node) => namespaces.has(node));

  let stopping: Promise<void> | undefined;
  const lab: NetLab = {
    subnet,
    nodes,
    address: known,
    namespace: (node) => (known(node), namespaces.get(node)),
    command: inNs,
    spawn(node, command, args, spawnOptions) {
      const wrapped = inNs(node, command, args);
      return startProcess(wrapped.command, wrapped.args, { name: `${command} (${node})`, ...spawnOptions });
    },
    async cut(a, b) {
      // Rules on each side that is a namespace: the host's own tables are never touched.
      const rules = members(a, b).flatMap((node) => cutRules(known(node === a ? b : a)).map((rule) => ({ node, rule })));
      if (rules.length === 0) throw new Error(`cannot cut ${a} from ${b}: neither is a namespace`);
      await add({ key: `cut ${a} ${b}`, nodes: [a, b], rules, processes: [] });
    },
    async heal(a, b) {
      const between = faults.filter((fault) => fault.nodes.length === 2 && fault.nodes.includes(a) && fault.nodes.includes(b));
      for (const fault of between) await remove(fault);
    },
    async isolate(node) {
      if (!namespaces.has(node)) throw new Error(`cannot isolate ${node}: it is the host, not a namespace`);
      await add({ key: `isolate ${node}`, nodes: [node], rules: isolateRules(iface).map((rule) => ({ node, rule })), processes: [] });
    },
    async rejoin(node) {
      for (const fault of faults.filter((candidate) => candidate.key === `isolate ${node}`)) await remove(fault);
    },
    async lossy(a, b, lossy) {
      if (!namespaces.has(a)) throw new Error(`lossy(${a}, ${b}): ${a} must be a namespace (it holds the rules and the proxy)`);
      const fault: Fault = { key: `lossy ${a} ${b}`, nodes: [a, b], rules: [], processes: [] };
      if (lossy.loss !== undefined) fault.rules.push(...lossRules(known(b), lossy.loss).map((rule) => ({ node: a, rule })));
      for (const port of lossy.delayMs === undefined ? [] : (lossy.ports ?? [])) {
        const listen = proxyPort++;
        const proxy = lab.spawn(
          a,
          process.execPath,
          [
            '--import',
            'tsx',
            join(repoRoot, 'tools', 'harness', 'delay-proxy.ts'),
            known(a),
            String(listen),
            known(a),
            String(port),
            String(lossy.delayMs),
          ],
          { cwd: repoRoot, name: `delay-proxy ${a}:${port} (${lossy.delayMs} ms)` },
        );
        fault.processes.push(proxy);
        await waitFor(`${proxy.name} to listen`, () => proxy.output().includes('listening'), { timeoutMs: 15_000, processes: [proxy] });
        fault.rules.push(...delayRules({ peer: known(b), self: known(a), port, proxyPort: listen }).map((rule) => ({ node: a, rule })));
      }
      await add(fault);
    },
    async healAll() {
      for (const fault of [...faults].reverse()) await remove(fault);
    },
    stop() {
      stopping ??= (async () => {
        await lab.healAll().catch(() => undefined);
        await Promise.all(created.map((name) => deleteNamespace(name)));
        await sh(ip, ['link', 'del', hostLink]).catch(() => undefined);
      })();
      return stopping;
    },
  };

  try {
    await sh(ip, ['netns', 'add', switchNs]).catch((error: unknown) => {
      throw new NetnsUnavailableError('netns-refused', (error as Error).message);
    });
    created.push(switchNs);
    await sh(ip, ['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh(ip, ['-n', switchNs, 'link', 'set', 'br0', 'up']);
    let port = 0;
    for (const node of nodes) {
      const ns = namespaces.get(node);
      const bridgePort = `p${port++}`;
      const address = `${known(node)}/24`;
      if (ns === undefined) {
        // The host joins through a veth pair whose bridge end lives in the switch namespace.
        await sh(ip, ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', bridgePort, 'netns', switchNs]);
        await sh(ip, ['addr', 'add', address, 'dev', hostLink]);
        await sh(ip, ['link', 'set', hostLink, 'up']);
      } else {
        await sh(ip, ['netns', 'add', ns]);
        created.push(ns);
        await sh(ip, ['-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', bridgePort, 'netns', switchNs]);
        await sh(ip, ['-n', ns, 'addr', 'add', address, 'dev', iface]);
        await sh(ip, ['-n', ns, 'link', 'set', iface, 'up']);
        await sh(ip, ['-n', ns, 'link', 'set', 'lo', 'up']);
      }
      await sh(ip, ['-n', switchNs, 'link', 'set', bridgePort, 'master', 'br0', 'up']);
    }
    return lab;
  } catch (error) {
    await lab.stop();
    throw error;
  }
}
