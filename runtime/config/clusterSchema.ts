// What [cluster] of loom.toml may hold (snake_case, as written), as zod: part of loom.toml's
// schema (schema.ts), and what clusterConfig() (cluster.ts) checks the table with once the
// loom.cluster.* settings are laid over it. Loaded only then, or to generate the JSON Schema.
import { z } from 'zod';

const NAME = /^[A-Za-z0-9_-]+$/;
// `.describe()` is the wording loom.toml's checker uses when a regex fails (as in schema.ts).
const name = (what: string) => {
  const words = `a ${what} name of letters, digits, "_" or "-"`;
  return z.string().regex(NAME, `must be ${words}`).max(64).describe(words);
};
/** A bus pattern (NATS rules: `*` one segment, `>` the trailing ones); checked again by the bus. */
const pattern = z
  .string()
  .regex(/^(\*|>|[^.*>\s]+)(\.(\*|>|[^.*>\s]+))*$/, 'must be a topic pattern such as "market.>" or "alerts.*"')
  .describe('a topic pattern such as "market.>" or "alerts.*"');
const serverUrl = z
  .string()
  .regex(/^(nats|tls|ws|wss):\/\/\S+$|^[^\s:/]+:\d+$/, 'must be a NATS URL such as nats://host:4222')
  .describe('a NATS URL such as nats://host:4222');

export const clusterSchema = z.strictObject({
  servers: z.array(serverUrl).min(1),
  node: name('node').optional(),
  namespace: name('namespace').optional(),
  share: z.array(pattern).optional(),
  share_realtime: z.array(pattern).optional(),
  offer_tools: z.array(z.string().min(1)).optional(),
  token: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  nkey_seed_file: z.string().min(1).optional(),
  creds_file: z.string().min(1).optional(),
  tls: z
    .strictObject({
      ca_file: z.string().min(1).optional(),
      cert_file: z.string().min(1).optional(),
      key_file: z.string().min(1).optional(),
    })
    .optional(),
  replicas: z.int().min(1).max(5).optional(),
  retention_ms: z.int().min(1000).optional(),
  stream_max_bytes: z
    .int()
    .min(1024 * 1024)
    .optional(),
  buffer_bytes: z.int().min(0).optional(),
  heartbeat_ms: z.int().min(100).max(60_000).optional(),
  presence_ttl_ms: z.int().min(500).max(600_000).optional(),
  tool_timeout_ms: z.int().min(1).optional(),
  jetstream_domain: name('JetStream domain').optional(),
});

export type ClusterToml = z.infer<typeof clusterSchema>;
