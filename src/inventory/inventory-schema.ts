import { z } from 'zod';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ., _ and -, starting with a letter or digit');

/** host:port, with [brackets] around an IPv6 host. */
export const addressSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/, 'must be host:port (IPv6 as [::1]:port)')
  .refine((address) => {
    // Only an address of the right shape has a port to check; the shape error above already covers the rest.
    if (!/:\d{1,5}$/.test(address)) return true;
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    return port > 0 && port < 65_536;
  }, 'port must be 1-65535');

const memberSchema = z.strictObject({
  name,
  address: addressSchema,
  /** Higher wins among equally fresh replicas. */
  priority: z.number().int().default(0),
  healthUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** A declared role, for kinds whose role cannot be discovered live (http, stream). */
  role: z.string().min(1).optional(),
});

const credentialsSchema = z
  .strictObject({
    username: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional(),
  })
  .refine(
    (credentials) => !(credentials.passwordFile !== undefined && credentials.passwordEnv !== undefined),
    'give passwordFile or passwordEnv, not both',
  );

/** Kinds of cluster remediator knows how to act on or probe. */
export const clusterKinds = ['redis', 'postgres', 'http', 'stream', 'generic'] as const;

const clusterSchema = z.strictObject({
  kind: z.enum(clusterKinds),
  description: z.string().optional(),
  /** Postgres: the database to connect to (default postgres). */
  database: z.string().min(1).optional(),
  credentials: credentialsSchema.optional(),
  members: z.array(memberSchema).min(1, 'a cluster needs at least one member'),
});

/** The inventory file as written (strict: typos fail). */
export const inventoryFileSchema = z.strictObject({
  clusters: z.record(name, clusterSchema),
});

/** The inventory file after schema validation. */
export type InventoryFile = z.output<typeof inventoryFileSchema>;
