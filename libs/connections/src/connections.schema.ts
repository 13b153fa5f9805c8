import { z } from 'zod';

/**
 * The connections file (`CONNECTIONS_FILE`, default `config/connections.yaml`): named WDT and Kingdee
 * connections that schemes reference by name (`source.connection`, `target.connection`). Secrets are
 * never in the file: each is a reference to an environment variable or a mounted file (a Kubernetes
 * Secret), read at boot. Unknown keys are errors (typos would otherwise silently fall back to defaults).
 */

export const CONNECTION_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const connectionName = z.string().regex(CONNECTION_NAME_PATTERN, {
  error:
    "connection names are lower-case letters, digits and '-' (like shop-a or acct-main), at most 63 characters",
});
const nonEmpty = z.string().trim().min(1, { error: 'must not be empty' });
/** http(s), without `user:password@` (a secret would sit in the file and in every view of the URL). */
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((u) => !/^[a-z]+:\/\/[^/?#]*@/i.test(u), {
    error: 'must not carry credentials (user:password@): secrets are references, see appSecret/password',
  });
const positiveInt = z.number().int().positive();

export const SecretRefSchema = z.union(
  [
    z.strictObject({
      env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a variable name' }),
    }),
    z.strictObject({ file: nonEmpty }),
  ],
  { error: 'must be { env: VARIABLE } or { file: /path/to/secret }: secrets are never written in this file' },
);
export type SecretRef = z.output<typeof SecretRefSchema>;

export const WdtConnectionSchema = z
  .strictObject({
    gateway: z.enum(['native', 'qimen']).default('native'),
    sid: nonEmpty,
    /** Native gateway: API base, e.g. https://api.wangdian.cn. */
    baseUrl: httpUrl.optional(),
    /** Native gateway: the app key (not a secret; its secret is `appSecret`). */
    appKey: nonEmpty.optional(),
    appSecret: SecretRefSchema.optional(),
    qimen: z
      .strictObject({
        url: httpUrl,
        appKey: nonEmpty,
        appSecret: SecretRefSchema,
        targetAppKey: nonEmpty.optional(),
        signMethod: z.enum(['md5', 'hmac']).default('md5'),
      })
      .optional(),
    /** L: calls per sliding 60 s of the app key, shared by every process and every connection on it. */
    callsPerMinute: positiveInt.default(60),
    timeoutMs: positiveInt.default(30_000),
    maxAttempts: positiveInt.max(100).default(5),
    description: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.gateway === 'native')
      for (const field of ['baseUrl', 'appKey', 'appSecret'] as const)
        if (c[field] === undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'required for gateway native' });
    if (c.gateway === 'qimen' && c.qimen === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['qimen'],
        message: 'required for gateway qimen (url, appKey, appSecret)',
      });
  });
export type WdtConnectionSpec = z.output<typeof WdtConnectionSchema>;

export const KingdeeConnectionSchema = z
  .strictObject({
    serverUrl: httpUrl,
    /** Data centre (账套) id. */
    acctId: nonEmpty,
    username: nonEmpty,
    authMode: z.enum(['validate_user', 'app_secret', 'sign', 'api_signature']).default('sign'),
    password: SecretRefSchema.optional(),
    appId: nonEmpty.optional(),
    appSecret: SecretRefSchema.optional(),
    lcid: positiveInt.default(2052),
    orgNumber: z.string().default(''),
    loginBody: z.enum(['positional', 'named']).default('positional'),
    /** The account's session cap (licences): sessions of ALL processes together, through leased slots. */
    sessions: positiveInt.max(64).default(4),
    timeoutMs: positiveInt.default(120_000),
    description: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.authMode === 'validate_user' && c.password === undefined)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'required for authMode validate_user' });
    if (c.authMode !== 'validate_user')
      for (const field of ['appId', 'appSecret'] as const)
        if (c[field] === undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: `required for authMode ${c.authMode}` });
  });
export type KingdeeConnectionSpec = z.output<typeof KingdeeConnectionSchema>;

/** `wdt:` with every entry commented out is YAML null: the same as no section. */
const section = <T extends z.ZodType>(entry: T) =>
  z.preprocess((v) => (v === null ? undefined : v), z.record(connectionName, entry).default({}));

export const ConnectionsFileSchema = z.strictObject({
  wdt: section(WdtConnectionSchema),
  kingdee: section(KingdeeConnectionSchema),
});
export type ConnectionsFile = z.output<typeof ConnectionsFileSchema>;

/**
 * One line per problem, each starting with its path in the file (`kingdee.acct-main.appSecret: …`);
 * an unknown key is reported at its own path. Values are never echoed (one could be a pasted secret).
 */
export function describeConnectionsIssues(error: z.ZodError): string[] {
  const at = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(file)';
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => `${at([...issue.path, key])}: unknown key`);
    if (issue.code === 'invalid_key')
      return [`${at(issue.path)}: ${issue.issues.map((i) => i.message).join('; ')}`];
    return [`${at(issue.path)}: ${issue.message}`];
  });
}
