import { z } from 'zod';

/**
 * The connections file (`CONNECTIONS_FILE`, default `config/connections.yaml`): named WDT and Kingdee
 * connections that schemes reference by name (`source.connection`, `target.connection`). Secrets are
 * never in the file: each is a reference to an environment variable or a mounted file (a Kubernetes
 * Secret), read at boot. Unknown keys are errors (typos would otherwise silently fall back to defaults).
 */

export const CONNECTION_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const connectionName = z
  .string()
  .regex(CONNECTION_NAME_PATTERN, { error: 'must be a lower-case name like shop-a or acct-main' });
const nonEmpty = z.string().trim().min(1, { error: 'must not be empty' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
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

export const ConnectionsFileSchema = z.strictObject({
  wdt: z.record(connectionName, WdtConnectionSchema).default({}),
  kingdee: z.record(connectionName, KingdeeConnectionSchema).default({}),
});
export type ConnectionsFile = z.output<typeof ConnectionsFileSchema>;
