import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, isAbsolute, join, normalize, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { loadPlaybooks } from '../../src/playbooks/load-playbooks.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** The services issue 6 asks for. */
const expectedServices = ['alertmanager', 'cache-a', 'cache-b', 'grafana', 'prometheus', 'redis', 'remediator', 'remediator-exporter'];

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | null>;
  env_file?: unknown;
  ports?: (string | { host_ip?: string; target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  secrets?: (string | { source: string; target?: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

interface PrometheusConfig {
  rule_files?: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
}

/** A published port as `docker-compose config` prints it (v1: "127.0.0.1:9095:9095/tcp"; v2: an object). */
function portOf(port: string | { host_ip?: string; target: number; published?: string | number }): {
  hostIp: string | undefined;
  published: number | undefined;
  target: number;
} {
  if (typeof port !== 'string') {
    return { hostIp: port.host_ip, published: port.published === undefined ? undefined : Number(port.published), target: port.target };
  }
  const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
  const target = Number(parts.at(-1));
  if (parts.length === 3) return { hostIp: parts[0], published: Number(parts[1]), target };
  if (parts.length === 2) return { hostIp: undefined, published: Number(parts[0]), target };
  return { hostIp: undefined, published: undefined, target };
}

/** A volume as a source (an absolute host path for a bind mount, a name for a volume) and a container path. */
function volumeOf(volume: string | { type?: string; source?: string; target: string }): { source: string; target: string; bind: boolean } {
  if (typeof volume !== 'string') return { source: volume.source ?? '', target: volume.target, bind: volume.type === 'bind' };
  const [source = '', target = ''] = volume.split(':');
  return { source, target, bind: isAbsolute(source) };
}

/** Each secret a service mounts: its name and where it appears in the container. */
function secretsOf(service: ComposeService): { source: string; target: string }[] {
  return (service.secrets ?? []).map((secret) => {
    const { source, target } = typeof secret === 'string' ? { source: secret, target: undefined } : secret;
    return { source, target: target === undefined ? `/run/secrets/${source}` : target.startsWith('/') ? target : `/run/secrets/${target}` };
  });
}

/** One Dockerfile instruction, continuation lines joined, comments dropped. */
interface Instruction {
  keyword: string;
  args: string;
}

function dockerfileInstructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of each stage, split at FROM. */
function dockerfileStages(instructions: Instruction[]): { from: string; name: string | undefined; instructions: Instruction[] }[] {
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [from = '', as, name] = instruction.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/**
 * The datasource uids a dashboard refers to: in `datasource` references, and as the value a datasource variable
 * starts on. References to a variable (`${datasource}`) and Grafana's built-in datasource aside.
 */
function datasourceUids(node: unknown, found = new Set<string>()): Set<string> {
  const add = (uid: unknown) => {
    if (typeof uid === 'string' && !uid.startsWith('$') && uid !== 'grafana' && uid !== '-- Grafana --') found.add(uid);
  };
  if (Array.isArray(node)) {
    for (const item of node) datasourceUids(item, found);
  } else if (typeof node === 'object' && node !== null) {
    const variable = node as { type?: unknown; current?: { value?: unknown } };
    if (variable.type === 'datasource') add(variable.current?.value);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource') add((value as { uid?: unknown } | null)?.uid);
      datasourceUids(value, found);
    }
  }
  return found;
}

/**
 * The packages (name → first importing file) that loading `entry` loads: its static imports, followed through
 * relative ones. Dynamic imports are left out: they load only when their command runs (`dashboards generate`
 * is a development tool, with development dependencies).
 */
async function packagesLoadedBy(dir: string, entry: string): Promise<Map<string, string>> {
  const builtins = new Set(builtinModules);
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(join(dir, file), 'utf8');
    // tsc writes one import or re-export statement per line (or per `} from '…';` line) at the top level.
    for (const match of text.matchAll(
      /^(?:import\b|export\s*[*{])[^;]*?\bfrom\s*(['"])([^'"\s]+)\1;?$|^import\s*(['"])([^'"\s]+)\3;?$/gm,
    )) {
      const specifier = match[2] ?? match[4] ?? '';
      if (specifier.startsWith('.')) pending.push(normalize(join(dirname(file), specifier)));
      else if (!specifier.startsWith('node:') && !builtins.has(specifier)) {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? '');
        if (!packages.has(name)) packages.set(name, file);
      }
    }
  }
  return packages;
}

/** image:tag with a full x.y.z version (optionally v-prefixed and with a variant), never latest. */
const pinnedImage = /^[a-z0-9./-]+:v?\d+\.\d+\.\d+(-[a-z0-9.]+)*$/;

describe('docker-compose.yml: the stack to try remediator with', () => {
  // docker-compose runs on a copy of the file next to the secrets scripts/compose-secrets.sh writes there, so
  // the check needs none of the user's secrets and tries the script as docs/operations.md tells users to run it.
  let project: { path: string; remove: () => Promise<void> };
  let compose: ComposeFile;
  let services: Record<string, ComposeService>;
  /** The repository file a bind mount of the copy stands for. */
  const inRepo = (source: string) => join(root, relative(project.path, source));
  const service = (name: string): ComposeService => {
    const found = services[name];
    assert.ok(found, `service ${name}`);
    return found;
  };
  const bindMount = (name: string, target: string) => {
    const volume = (service(name).volumes ?? []).map(volumeOf).find((mount) => mount.target === target);
    assert.ok(volume?.bind, `${name} bind-mounts something at ${target}`);
    return relative(project.path, volume.source);
  };
  /** The port a service listens on inside the network: the container side of its published port. */
  const containerPort = (name: string): number => {
    const [port] = (service(name).ports ?? []).map(portOf);
    assert.ok(port, `${name} publishes its port`);
    return port.target;
  };

  before(async () => {
    project = await tempDir('remediator-compose-');
    await copyFile(join(root, 'docker-compose.yml'), join(project.path, 'docker-compose.yml'));
    await mkdir(join(project.path, 'scripts'));
    await copyFile(join(root, 'scripts/compose-secrets.sh'), join(project.path, 'scripts/compose-secrets.sh'));
    await run('bash', [join(project.path, 'scripts/compose-secrets.sh')], { cwd: project.path });
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: project.path });
    compose = parse(stdout) as ComposeFile;
    services = compose.services;
  });
  after(() => project.remove());

  test('docker-compose config -q accepts it', async () => {
    const { stdout, stderr } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: project.path });
    assert.equal(stdout, '');
    assert.doesNotMatch(stderr, /error|warn/i, stderr);
  });

  test('it has every service of the stack', () => {
    assert.deepEqual(Object.keys(services).sort(), expectedServices);
  });

  test('images are pinned to a version; remediator and the exporter run the image built from the Dockerfile', () => {
    for (const name of ['remediator', 'remediator-exporter']) {
      const { build, image, command } = service(name);
      assert.ok(build, `${name} is built`);
      assert.equal(relative(project.path, build.context), '', `${name} is built from the checkout`);
      assert.equal(build.dockerfile ?? 'Dockerfile', 'Dockerfile');
      assert.equal(image, 'remediator:local', `${name} runs the one built image`);
      assert.deepEqual(command, [name === 'remediator' ? 'serve' : 'exporter']);
    }
    for (const [name, { image, build }] of Object.entries(services)) {
      if (build) continue;
      assert.match(image ?? '', pinnedImage, `${name}: image ${image ?? '(none)'} is not pinned to a version`);
    }
  });

  test('every file and folder it bind-mounts exists in the checkout', async () => {
    const missing: string[] = [];
    for (const [name, { volumes }] of Object.entries(services)) {
      for (const volume of (volumes ?? []).map(volumeOf).filter((mount) => mount.bind)) {
        // Docker would create a missing one as an empty folder, owned by root.
        if (!(await stat(inRepo(volume.source)).catch(() => undefined))) missing.push(`${name}: ${relative(project.path, volume.source)}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('published ports listen on 127.0.0.1 only', () => {
    const published: Record<string, number[]> = {};
    for (const [name, { ports }] of Object.entries(services)) {
      for (const port of (ports ?? []).map(portOf)) {
        assert.equal(port.hostIp, '127.0.0.1', `${name}: port ${port.target} is published on ${port.hostIp ?? 'every address'}`);
        assert.ok(port.published, `${name}: port ${port.target} has a fixed host port`);
        (published[name] ??= []).push(port.published);
      }
    }
    // The URLs docs/operations.md gives; Redis (the queue and the demo pair) stays on the compose network.
    assert.deepEqual(published, {
      alertmanager: [9093],
      grafana: [3000],
      prometheus: [9090],
      remediator: [9095],
      'remediator-exporter': [9105],
    });
  });

  test('secrets are files under ./secrets, mounted where *_FILE variables point; no secret is in the environment', async () => {
    const declared = Object.entries(compose.secrets ?? {});
    assert.deepEqual(declared.map(([name]) => name).sort(), ['admin_password', 'cache_password', 'webhook_token']);
    for (const [name, { file }] of declared)
      assert.equal(relative(project.path, file ?? ''), `secrets/${name}`, `secret ${name} comes from secrets/${name}`);
    const values = await Promise.all(declared.map(async ([name]) => readFile(join(project.path, 'secrets', name), 'utf8')));
    const printed = JSON.stringify(compose);
    for (const value of values) assert.ok(!printed.includes(value), 'a secret value appears in the configuration');

    for (const [name, definition] of Object.entries(services)) {
      assert.equal(definition.env_file, undefined, `${name}: no env_file (secrets are mounted files)`);
      const mounted = new Set(secretsOf(definition).map((secret) => secret.target));
      for (const [variable, value] of Object.entries(definition.environment ?? {})) {
        const where = `${name}: ${variable}`;
        if (/PASSWORD|TOKEN|SECRET|API_KEY|CREDENTIAL/i.test(variable)) {
          assert.match(variable, /_FILE$/, `${where} holds a secret inline; give it as ${variable}_FILE`);
        }
        if (variable.endsWith('_FILE') && variable !== 'INVENTORY_FILE') {
          assert.ok(mounted.has(value ?? ''), `${where}=${value ?? ''} is not a secret mounted into ${name}`);
        }
        if (value?.includes('://')) {
          const url = new URL(value);
          assert.equal(url.username + url.password, '', `${where}: credentials in a URL`);
        }
      }
    }
  });

  test('scripts/compose-secrets.sh writes every secret, readable by the containers in a private directory, and keeps existing ones', async () => {
    assert.equal((await stat(join(project.path, 'secrets'))).mode & 0o777, 0o700);
    const names = Object.keys(compose.secrets ?? {});
    const first = await Promise.all(names.map(async (name) => readFile(join(project.path, 'secrets', name), 'utf8')));
    for (const [index, name] of names.entries()) {
      assert.match(first[index] ?? '', /^[0-9a-f]{32}$/, `secrets/${name}`);
      assert.equal(
        (await stat(join(project.path, 'secrets', name))).mode & 0o777,
        0o644,
        `secrets/${name}: readable by the containers' users`,
      );
    }
    assert.equal(new Set(first).size, names.length, 'every secret is its own random value');
    await run('bash', [join(project.path, 'scripts/compose-secrets.sh')], { cwd: project.path });
    const again = await Promise.all(names.map(async (name) => readFile(join(project.path, 'secrets', name), 'utf8')));
    assert.deepEqual(again, first, 'a second run keeps the secrets');
  });

  test('every service has a healthcheck, and every dependency waits on a condition it can meet', async () => {
    const image = dockerfileStages(dockerfileInstructions(await readFile(join(root, 'Dockerfile'), 'utf8'))).at(-1);
    const imageHealthcheck = image?.instructions.some((instruction) => instruction.keyword === 'HEALTHCHECK') ?? false;
    const healthchecked = (name: string) => {
      const { healthcheck, build } = service(name);
      if (healthcheck?.disable === true) return false;
      return healthcheck?.test !== undefined || (build !== undefined && imageHealthcheck);
    };
    for (const name of Object.keys(services)) assert.ok(healthchecked(name), `${name} has no healthcheck`);
    for (const [name, { depends_on: dependsOn }] of Object.entries(services)) {
      assert.ok(!Array.isArray(dependsOn), `${name}: depends_on needs conditions`);
      for (const [dependency, { condition }] of Object.entries(dependsOn ?? {})) {
        assert.ok(condition, `${name} → ${dependency}: no condition`);
        if (condition === 'service_healthy')
          assert.ok(healthchecked(dependency), `${name} waits for ${dependency} to be healthy, which has no healthcheck`);
      }
    }
    const dependsOn = (name: string) => service(name).depends_on as Record<string, { condition: string }> | undefined;
    assert.equal(dependsOn('remediator')?.redis?.condition, 'service_healthy', 'remediator starts once its queue answers');
    // The image's check asks remediator's port; the exporter's own check must ask the exporter's.
    const exporterCheck = [service('remediator-exporter').healthcheck?.test ?? []].flat().join(' ');
    assert.match(exporterCheck, new RegExp(`:${containerPort('remediator-exporter')}/healthz`));
  });

  test('remediator and the exporter use deploy/compose/inventory.yaml: the demo pair, with its password from the cache_password secret', async () => {
    const targets = ['remediator', 'remediator-exporter'].map((name) => {
      const file = service(name).environment?.INVENTORY_FILE ?? '';
      assert.equal(bindMount(name, file), 'deploy/compose/inventory.yaml', `${name}: INVENTORY_FILE is the compose inventory`);
      return secretsOf(service(name)).find((secret) => secret.source === 'cache_password')?.target;
    });
    const references: string[] = [];
    const loaded = await loadInventory(join(root, 'deploy/compose/inventory.yaml'), {
      required: true,
      readSecret: ({ passwordFile }) => {
        references.push(passwordFile ?? '(not a file)');
        return 'x';
      },
    });
    assert.ok(loaded.success, loaded.success ? '' : JSON.stringify(loaded.problems));
    assert.ok(targets[0], 'remediator mounts the cache_password secret');
    assert.deepEqual(references, [targets[0]], 'the password is the cache_password secret');
    assert.deepEqual(targets[0], targets[1], 'both read it at the same path');
    const members = [...loaded.inventory.clusters.values()].flatMap((cluster) =>
      cluster.members.map((member) => `${cluster.name}/${member.name}=${member.address}`),
    );
    // Redis in its default port; the names the exporter gives the members are the service names.
    assert.deepEqual(members, ['cache/cache-a=cache-a:6379', 'cache/cache-b=cache-b:6379']);
    const replicaOf = service('cache-b').command ?? [];
    assert.deepEqual(
      replicaOf.slice(replicaOf.indexOf('--replicaof')),
      ['--replicaof', 'cache-a', '6379'],
      'cache-b starts as the replica of cache-a',
    );
    for (const name of ['cache-a', 'cache-b'])
      assert.ok(
        secretsOf(service(name)).some((secret) => secret.target === '/run/secrets/cache_password'),
        name,
      );

    // The playbooks the remediator service mounts load with this inventory, and the inventory is not one of them.
    assert.equal(bindMount('remediator', '/app/remediations'), 'remediations');
    const actions = createDefaultActions({
      smtpUrl: undefined,
      smtpFrom: 'remediator@localhost',
      prometheusUrl: undefined,
      path: undefined,
      inventory: loaded.inventory,
    });
    const playbooks = await loadPlaybooks(join(root, 'remediations'), actions);
    assert.ok(playbooks.success, playbooks.success ? '' : JSON.stringify(playbooks.problems));
    assert.ok(playbooks.playbooks.some((playbook) => playbook.name === 'redis-primary-failover'));
  });

  test('Prometheus runs deploy/compose/prometheus.yml with every rules/*.yml, and its targets are services of the stack', async () => {
    assert.equal(bindMount('prometheus', '/etc/prometheus/prometheus.yml'), 'deploy/compose/prometheus.yml');
    const config = parse(await readFile(join(root, 'deploy/compose/prometheus.yml'), 'utf8')) as PrometheusConfig;
    const rulesDir = (service('prometheus').volumes ?? [])
      .map(volumeOf)
      .find((volume) => volume.bind && relative(project.path, volume.source) === 'rules')?.target;
    assert.ok(rulesDir, 'rules/ is mounted');
    assert.deepEqual(config.rule_files, [`${rulesDir}/*.yml`], 'the rule files are every *.yml of the mounted rules/');
    // Every Prometheus rule file there (a YAML file with `groups`; rules/ also holds other specs) matches that glob.
    for (const name of (await readdir(join(root, 'rules'))).filter((file) => /\.ya?ml$/.test(file))) {
      const groups = (parse(await readFile(join(root, 'rules', name), 'utf8')) as { groups?: unknown } | null)?.groups;
      if (groups !== undefined) assert.match(name, /\.yml$/, `rules/${name} holds rule groups but Prometheus would not load it`);
    }

    const alertmanagers = config.alerting.alertmanagers.flatMap((entry) => entry.static_configs.flatMap((static_) => static_.targets));
    assert.deepEqual(alertmanagers, [`alertmanager:${containerPort('alertmanager')}`]);
    const scraped: Record<string, string[]> = {};
    for (const job of config.scrape_configs) scraped[job.job_name] = job.static_configs.flatMap((static_) => static_.targets);
    assert.deepEqual(scraped, {
      prometheus: [`localhost:${containerPort('prometheus')}`],
      remediator: [`remediator:${containerPort('remediator')}`],
      'remediator-exporter': [`remediator-exporter:${containerPort('remediator-exporter')}`],
      alertmanager: [`alertmanager:${containerPort('alertmanager')}`],
    });
  });

  test('the compose Prometheus config is prometheus/prometheus.yml plus the Alertmanager job', async () => {
    const shipped = parse(await readFile(join(root, 'prometheus/prometheus.yml'), 'utf8')) as PrometheusConfig;
    const composed = parse(await readFile(join(root, 'deploy/compose/prometheus.yml'), 'utf8')) as PrometheusConfig;
    const shippedJobs = new Set(shipped.scrape_configs.map((job) => job.job_name));
    assert.deepEqual(
      composed.scrape_configs.filter((job) => !shippedJobs.has(job.job_name)).map((job) => job.job_name),
      ['alertmanager'],
    );
    assert.deepEqual({ ...composed, scrape_configs: composed.scrape_configs.filter((job) => shippedJobs.has(job.job_name)) }, shipped);
  });

  test('Alertmanager runs prometheus/alertmanager.yml and posts to remediator with the webhook_token secret', async () => {
    const { command = [] } = service('alertmanager');
    const configFile = command.find((arg) => arg.startsWith('--config.file='))?.slice('--config.file='.length) ?? '';
    // The file test/deploy/prometheus-config.test.ts checks with amtool.
    assert.equal(bindMount('alertmanager', configFile), 'prometheus/alertmanager.yml');
    assert.ok(command.includes('--cluster.listen-address='), 'no gossip port for a single Alertmanager');
    const config = parse(await readFile(join(root, 'prometheus/alertmanager.yml'), 'utf8')) as {
      receivers: { webhook_configs?: { url: string; http_config?: { authorization?: { credentials_file?: string } } }[] }[];
    };
    const webhooks = config.receivers.flatMap((receiver) => receiver.webhook_configs ?? []);
    assert.ok(webhooks.length > 0);
    const tokenAt = secretsOf(service('alertmanager')).find((secret) => secret.source === 'webhook_token')?.target;
    for (const webhook of webhooks) {
      assert.equal(new URL(webhook.url).host, `remediator:${containerPort('remediator')}`);
      assert.equal(webhook.http_config?.authorization?.credentials_file, tokenAt, 'the token file is the webhook_token secret');
    }
    const remediatorToken = secretsOf(service('remediator')).find((secret) => secret.source === 'webhook_token')?.target;
    assert.equal(service('remediator').environment?.WEBHOOK_TOKEN_FILE, remediatorToken, 'remediator checks the same token');
  });

  test('Grafana is provisioned from grafana/ and its datasource is the Prometheus service', async () => {
    assert.equal(bindMount('grafana', '/etc/grafana/provisioning'), 'grafana/provisioning');
    assert.equal(bindMount('grafana', '/var/lib/grafana/dashboards'), 'grafana/dashboards');
    const yamlIn = async (dir: string) => {
      const names = await readdir(join(root, dir)).catch(() => []);
      return Promise.all(
        names.filter((name) => /\.ya?ml$/.test(name)).map(async (name) => parse(await readFile(join(root, dir, name), 'utf8')) as unknown),
      );
    };
    const datasources = (await yamlIn('grafana/provisioning/datasources')).flatMap(
      (file) => (file as { datasources?: { uid?: string; url: string; type: string }[] }).datasources ?? [],
    );
    const prometheus = datasources.filter((datasource) => datasource.type === 'prometheus');
    assert.ok(prometheus.length > 0, 'a Prometheus datasource');
    for (const datasource of prometheus) assert.equal(datasource.url, `http://prometheus:${containerPort('prometheus')}`);
    // Dashboard providers read the mounted dashboards folder, and dashboards use only provisioned datasources.
    const providers = (await yamlIn('grafana/provisioning/dashboards')).flatMap(
      (file) => (file as { providers?: { options?: { path?: string } }[] }).providers ?? [],
    );
    for (const provider of providers)
      assert.match(provider.options?.path ?? '', /^\/var\/lib\/grafana\/dashboards(\/|$)/, 'a dashboard provider reads the mounted folder');
    const uids = new Set(datasources.map((datasource) => datasource.uid));
    const dashboards = (await readdir(join(root, 'grafana/dashboards'), { recursive: true }).catch(() => [])).filter((name) =>
      name.endsWith('.json'),
    );
    for (const name of dashboards) {
      const used = datasourceUids(JSON.parse(await readFile(join(root, 'grafana/dashboards', name), 'utf8')));
      assert.ok(used.size > 0, `grafana/dashboards/${name} names no datasource`);
      for (const uid of used)
        assert.ok(uids.has(uid), `grafana/dashboards/${name} uses datasource uid ${uid}, not provisioned (${[...uids].join(', ')})`);
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  test('a build stage compiles, a runtime stage runs dist/main.js as a non-root user', async () => {
    const stages = dockerfileStages(dockerfileInstructions(await readFile(join(root, 'Dockerfile'), 'utf8')));
    assert.ok(stages.length >= 2, 'multi-stage');
    for (const stage of stages) assert.match(stage.from, pinnedImage, `FROM ${stage.from} is not pinned to a version`);
    const [build] = stages;
    const runtime = stages.at(-1);
    assert.ok(build && runtime);
    const runs = (stage: typeof build) =>
      stage.instructions
        .filter((instruction) => instruction.keyword === 'RUN')
        .map((instruction) => instruction.args)
        .join('\n');
    assert.match(runs(build), /npm ci\b/);
    assert.match(runs(build), /npm run build\b/);
    assert.match(runs(build), /npm prune --omit=dev\b/, 'only production dependencies leave the build stage');
    assert.doesNotMatch(runs(runtime), /npm (ci|install)\b/, 'the runtime stage installs nothing');

    const last = (keyword: string) => runtime.instructions.filter((instruction) => instruction.keyword === keyword).at(-1)?.args;
    const user = last('USER') ?? 'root';
    assert.ok(!['root', '0', '0:0'].includes(user), `runs as ${user}`);
    assert.deepEqual(JSON.parse(last('ENTRYPOINT') ?? 'null'), ['node', 'dist/main.js']);
    assert.deepEqual(JSON.parse(last('CMD') ?? 'null'), ['serve']);
    assert.equal(last('EXPOSE'), '9095');
    assert.match(last('HEALTHCHECK') ?? '', /\/healthz/);
    assert.match(
      runtime.instructions
        .filter((instruction) => instruction.keyword === 'ENV')
        .map((instruction) => instruction.args)
        .join(' '),
      /\bREMEDIATIONS_DIR=\/app\/remediations\b/,
      'where compose mounts the playbooks',
    );

    const copies = runtime.instructions.filter((instruction) => instruction.keyword === 'COPY').map((instruction) => instruction.args);
    assert.deepEqual(
      copies
        .filter((args) => args.startsWith('--from='))
        .map((args) => args.split(/\s+/)[1])
        .sort(),
      ['/app/dist', '/app/node_modules'],
    );
    assert.deepEqual(
      copies
        .filter((args) => !args.startsWith('--'))
        .map((args) => args.split(/\s+/)[0])
        .sort(),
      ['package.json', 'remediations'],
    );
  });

  test('.dockerignore lets in only what the Dockerfile copies from the checkout', async () => {
    const patterns = (await readFile(join(root, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(patterns[0], '*', 'an allowlist: everything is excluded first');
    const copied = dockerfileInstructions(await readFile(join(root, 'Dockerfile'), 'utf8'))
      .filter((instruction) => instruction.keyword === 'COPY' && !instruction.args.startsWith('--from='))
      .flatMap((instruction) => instruction.args.split(/\s+/).slice(0, -1));
    assert.deepEqual(
      patterns
        .slice(1)
        .map((pattern) => pattern.replace(/^!/, ''))
        .sort(),
      [...new Set(copied)].sort(),
    );
    assert.ok(
      !patterns.some((pattern) => /secrets|\.git\b|node_modules/.test(pattern.replace(/^!/, ''))),
      'no secrets, .git or node_modules',
    );
  });

  // The runtime stage's layout, without Docker: dist/ from `npm run build`'s tsconfig, package.json and remediations/
  // beside it. Its imports must be production dependencies (the image has no others) and `validate` must run.
  test('the build output runs from the image layout and imports only production dependencies', { timeout: 180_000 }, async (t) => {
    const app = await tempDir('remediator-image-');
    t.after(() => app.remove());
    await run(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(app.path, 'dist'),
        '--sourceMap',
        'false',
      ],
      { cwd: root },
    );
    // The rest of `npm run build`: the files the code reads beside itself (the Redis scripts).
    await run(process.execPath, [join(root, 'scripts/copy-assets.mjs'), join(app.path, 'dist')], { cwd: root });
    assert.ok(existsSync(join(app.path, 'dist/queue/commands/add-runs.lua')), "the build output has the intake's Lua script");
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    assert.match(
      pkg.scripts.build ?? '',
      /tsc -p tsconfig\.build\.json && node scripts\/copy-assets\.mjs/,
      'npm run build is what this test does',
    );
    const production = new Set(Object.keys(pkg.dependencies));
    const loaded = await packagesLoadedBy(join(app.path, 'dist'), 'main.js');
    assert.ok(loaded.has('bullmq') && loaded.has('express'), `the imports were read: ${[...loaded.keys()].join(', ')}`);
    for (const [name, file] of loaded) {
      assert.ok(production.has(name), `dist/${file} imports ${name}, which is not a production dependency (the image has no others)`);
    }
    await copyFile(join(root, 'package.json'), join(app.path, 'package.json'));
    await symlink(join(root, 'node_modules'), join(app.path, 'node_modules'));
    await run('cp', ['-r', join(root, 'remediations'), join(app.path, 'remediations')]);
    // The compose inventory, with the password file where the container would have the secret.
    const password = join(app.path, 'cache_password');
    await writeFile(password, 'x');
    const inventory = join(app.path, 'inventory.yaml');
    await writeFile(
      inventory,
      (await readFile(join(root, 'deploy/compose/inventory.yaml'), 'utf8')).replaceAll('/run/secrets/cache_password', password),
    );
    // The image's NODE_OPTIONS too: node refuses to start on one it does not accept.
    const nodeOptions =
      /^ENV NODE_OPTIONS=(.+)$/m.exec(await readFile(join(root, 'Dockerfile'), 'utf8'))?.[1] ??
      assert.fail('the Dockerfile sets NODE_OPTIONS');
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      NODE_OPTIONS: nodeOptions,
      REMEDIATIONS_DIR: join(app.path, 'remediations'),
      INVENTORY_FILE: inventory,
    };
    const main = join(app.path, 'dist/main.js');
    assert.equal((await run(process.execPath, [main, '--version'], { cwd: app.path, env })).stdout.trim(), pkg.version);
    const { stdout } = await run(process.execPath, [main, 'validate'], { cwd: app.path, env });
    assert.match(stdout, /playbook\(s\) OK: .*redis-primary-failover/);
    assert.match(stdout, /inventory: 1 cluster\(s\): cache/);
    // The dev-time tools (tools/) are not in the image: their commands say so instead of failing to import.
    const lint = await run(process.execPath, [main, 'lint'], { cwd: app.path, env }).then(
      () => assert.fail('lint ran in the image layout'),
      (error: unknown) => error as { code: number; stderr: string },
    );
    assert.equal(lint.code, 1);
    assert.match(lint.stderr, /`remediator lint` is a development tool \(tools\/\), not part of this installation/);
  });
});
