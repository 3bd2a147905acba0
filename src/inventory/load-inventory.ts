import { createProblemList, readOptionalFile, readYamlSource, sortByLine, type SourcePath, type SourceProblem } from '../sources/index.js';
import { inventoryFileSchema } from './inventory-schema.js';
import { splitAddress, type Inventory, type InventoryCluster } from './inventory.js';

/** Reads a secret by reference; throws with a readable message when it cannot. */
export type SecretReader = (reference: { passwordFile?: string; passwordEnv?: string }) => string;

/** The outcome of loading the inventory: every problem at once, or the inventory. */
export type LoadInventoryResult = { success: true; inventory: Inventory } | { success: false; problems: SourceProblem[] };

/**
 * Loads the inventory. A missing file is an empty inventory unless `required` (INVENTORY_FILE was set
 * explicitly). Passwords are only referenced (passwordFile / passwordEnv) and resolved through `readSecret`.
 */
export async function loadInventory(
  path: string,
  options: { required: boolean; readSecret: SecretReader; displayPath?: string },
): Promise<LoadInventoryResult> {
  const file = options.displayPath ?? path;
  const read = await readOptionalFile(path, file, 'the inventory');
  if ('missing' in read && !options.required) return { success: true, inventory: { file: undefined, clusters: new Map() } };
  if ('missing' in read) return { success: false, problems: [{ file, message: 'cannot read the inventory (ENOENT)' }] };
  if ('problem' in read) return { success: false, problems: [read.problem] };
  return parseInventorySource(file, read.text, options.readSecret);
}

/** read → schema → rules for the inventory text. */
export function parseInventorySource(file: string, text: string, readSecret: SecretReader): LoadInventoryResult {
  const read = readYamlSource(file, text, 'inventory');
  if (!read.success) return read;
  const { problems, add, addIssues } = createProblemList(read.document);
  inlinePasswords(read.document.value, add);
  const parsed = inventoryFileSchema.safeParse(read.document.value);
  if (!parsed.success) {
    addIssues(
      parsed.error.issues.filter((issue) => !(issue.code === 'unrecognized_keys' && issue.keys.every((key) => key === 'password'))),
    );
    return { success: false, problems: sortByLine(problems) };
  }
  const clusters = new Map<string, InventoryCluster>();
  for (const [name, cluster] of Object.entries(parsed.data.clusters)) {
    const names = new Set<string>();
    const addresses = new Set<string>();
    cluster.members.forEach((member, index) => {
      if (names.has(member.name))
        add(['clusters', name, 'members', index, 'name'], `member name "${member.name}" is used twice in ${name}`);
      if (addresses.has(member.address))
        add(['clusters', name, 'members', index, 'address'], `address ${member.address} is used twice in ${name}`);
      names.add(member.name);
      addresses.add(member.address);
    });
    let password: string | undefined;
    const credentials = cluster.credentials;
    if (credentials && (credentials.passwordFile !== undefined || credentials.passwordEnv !== undefined)) {
      try {
        password = readSecret({
          ...(credentials.passwordFile === undefined ? {} : { passwordFile: credentials.passwordFile }),
          ...(credentials.passwordEnv === undefined ? {} : { passwordEnv: credentials.passwordEnv }),
        });
      } catch (error) {
        add(['clusters', name, 'credentials'], (error as Error).message);
      }
    }
    clusters.set(name, {
      name,
      kind: cluster.kind,
      ...(cluster.database === undefined ? {} : { database: cluster.database }),
      ...(credentials?.username === undefined ? {} : { username: credentials.username }),
      ...(password === undefined ? {} : { password }),
      members: cluster.members.map((member) => ({ ...member, ...splitAddress(member.address) })),
    });
  }
  if (problems.length > 0) return { success: false, problems: sortByLine(problems) };
  return { success: true, inventory: { file, clusters } };
}

/** Points at any `password:` key with the fix, instead of a bare "unknown key". */
function inlinePasswords(raw: unknown, add: (path: SourcePath, message: string) => void): void {
  const clusters = (raw as { clusters?: unknown } | null)?.clusters;
  if (typeof clusters !== 'object' || clusters === null) return;
  for (const [name, cluster] of Object.entries(clusters)) {
    const credentials = (cluster as { credentials?: unknown } | null)?.credentials;
    if (typeof credentials === 'object' && credentials !== null && 'password' in credentials) {
      add(['clusters', name, 'credentials', 'password'], 'passwords are never written in the inventory: use passwordFile or passwordEnv');
    }
  }
}
