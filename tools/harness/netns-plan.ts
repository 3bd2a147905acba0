// The pure half of the partition harness (netns.ts): which subnet, which names and addresses, which iptables rules.
// Nothing here runs a program, so all of it is unit-tested.

/** Namespaces of the harness are named `rmd<pid>x<n>`: the pid of the process that made them, so a later run can
 * tell a stale namespace (its pid is dead) from one of a lab still running. */
export const namespacePattern = /^rmd(\d+)x\d+$/;

/** The name of the `n`-th namespace made by process `pid` (≤ 15 characters, so it also serves as an interface name). */
export function namespaceName(pid: number, n: number): string {
  return `rmd${pid}x${n}`;
}

/** Stale namespaces among `names`: made by this harness (by name) in a process that is no longer alive. */
export function staleNamespaces(names: readonly string[], alive: (pid: number) => boolean): string[] {
  return names.filter((name) => {
    const match = namespacePattern.exec(name);
    return match !== null && !alive(Number(match[1]));
  });
}

/** `a.b.c.d/len` as a number range [first, last]. */
export function cidrRange(cidr: string): [number, number] {
  const [address = '', length = '32'] = cidr.split('/');
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) {
    throw new Error(`not an IPv4 address: ${cidr}`);
  }
  const bits = Number(length);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`not a prefix length: ${cidr}`);
  const value = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  const first = value - (value % size);
  return [first, first + size - 1];
}

const overlaps = (a: string, b: string) => {
  const [aFirst, aLast] = cidrRange(a);
  const [bFirst, bLast] = cidrRange(b);
  return aFirst <= bLast && bFirst <= aLast;
};

/**
 * A private 10.x.y.0/24 that overlaps none of `routes` (the destinations of the host's routes; `default` and
 * 0.0.0.0/0 are ignored, since they cover everything). `random` picks x and y (tests pass a fixed sequence); after
 * `attempts` misses it gives up, naming the routes in the way.
 */
export function chooseSubnet(routes: readonly string[], random: () => number, attempts = 200): string {
  const taken = routes
    .filter((route) => route !== 'default' && !route.endsWith('/0'))
    .map((route) => (route.includes('/') ? route : `${route}/32`));
  for (let attempt = 0; attempt < attempts; attempt++) {
    // 10.64.0.0–10.254.255.0: clear of the 10.0.x.y and 10.1.x.y that container runtimes and VPNs like to take.
    const x = 64 + Math.floor(random() * 191);
    const y = Math.floor(random() * 256);
    const subnet = `10.${x}.${y}.0/24`;
    if (!taken.some((route) => overlaps(route, subnet))) return subnet;
  }
  throw new Error(`no free 10.x.y.0/24 after ${attempts} tries: the host routes ${taken.join(', ')}`);
}

/** The address of host number `index` (1–254) in a /24 `subnet`. */
export function hostAddress(subnet: string, index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 254) throw new Error(`host ${index} is outside a /24`);
  const [a, b, c] = subnet.split('.');
  return `${a}.${b}.${c}.${index}`;
}

/** One iptables rule inside a member's namespace: its table, its chain and its match and target. */
export interface Rule {
  table: 'filter' | 'nat';
  chain: 'INPUT' | 'OUTPUT' | 'PREROUTING';
  spec: string[];
}

/** The iptables arguments that add (`-A`) or delete (`-D`) `rule`, waiting for the xtables lock. */
export function ruleArgs(operation: '-A' | '-D', rule: Rule): string[] {
  return ['-w', '-t', rule.table, operation, rule.chain, ...rule.spec];
}

/** Everything to and from `peer` dropped: a cut, both directions, as seen from one side. */
export function cutRules(peer: string): Rule[] {
  return [
    { table: 'filter', chain: 'INPUT', spec: ['-s', peer, '-j', 'DROP'] },
    { table: 'filter', chain: 'OUTPUT', spec: ['-d', peer, '-j', 'DROP'] },
  ];
}

/** Everything through the lab's interface dropped: the node loses every other node (its loopback stays). */
export function isolateRules(iface: string): Rule[] {
  return [
    { table: 'filter', chain: 'INPUT', spec: ['-i', iface, '-j', 'DROP'] },
    { table: 'filter', chain: 'OUTPUT', spec: ['-o', iface, '-j', 'DROP'] },
  ];
}

/** A `probability` (0–1) of each packet to and from `peer` dropped, at random. */
export function lossRules(peer: string, probability: number): Rule[] {
  if (!(probability > 0 && probability <= 1)) throw new Error(`a loss probability is in (0, 1], not ${probability}`);
  const random = ['-m', 'statistic', '--mode', 'random', '--probability', String(probability)];
  return [
    { table: 'filter', chain: 'INPUT', spec: ['-s', peer, ...random, '-j', 'DROP'] },
    { table: 'filter', chain: 'OUTPUT', spec: ['-d', peer, ...random, '-j', 'DROP'] },
  ];
}

/**
 * New TCP connections from `peer` to `self`:`port` redirected to a delaying proxy on `self`:`proxyPort` (which
 * forwards to `port`), and connections from `peer` that reach `port` directly (opened before the rule, so conntrack
 * keeps them off the DNAT) reset, so the peer reconnects through the proxy instead of keeping a fast path.
 */
export function delayRules(options: { peer: string; self: string; port: number; proxyPort: number }): Rule[] {
  const { peer, self, port, proxyPort } = options;
  return [
    {
      table: 'nat',
      chain: 'PREROUTING',
      spec: ['-s', peer, '-d', self, '-p', 'tcp', '--dport', String(port), '-j', 'DNAT', '--to-destination', `${self}:${proxyPort}`],
    },
    {
      table: 'filter',
      chain: 'INPUT',
      spec: ['-s', peer, '-p', 'tcp', '--dport', String(port), '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    },
  ];
}

/** Whether CAP_NET_ADMIN (bit 12) is in the effective set of /proc/self/status's `CapEff:` hex mask. */
export function hasNetAdmin(status: string): boolean {
  const mask = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << 12n)) !== 0n;
}
