import { z } from 'zod';
import { TOPIC_CATALOGUE } from '@libs/contracts';
import { operatorTokensSchema } from './operator-tokens.schema';

/**
 * Every environment variable the services read, in one place. Each service validates its slice at
 * boot (`loadServiceConfig`); a missing or malformed variable stops the process with a message
 * naming it. `.env.example` documents the same list and a test keeps the two in step.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const brokerList = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()))
  .refine(
    (list) => list.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)),
    'must be a comma-separated list of host:port',
  );
const httpUrl = z.url({ protocol: /^https?$/ });
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL');

/**
 * How every Kafka client of the project connects (services, CLIs, the setup Job): one slice, one
 * builder (`createKafkaFromConfig` in libs/kafka). SASL takes all three variables or none.
 */
export const kafkaEnv = {
  KAFKA_BROKERS: brokerList,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_CONNECTION_TIMEOUT_MS: positiveInt.default(3000),
  KAFKA_SSL: bool.default(false),
  /** PEM file of the CA that signed the brokers' certificates; setting it turns TLS on. */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
};

export const commonEnv = {
  APP_MODE: z.enum(['production', 'sandbox']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...kafkaEnv,
  KAFKA_MAX_MESSAGE_BYTES: positiveInt.default(1_048_576),
  /** A send not acknowledged within this fails and the producer is replaced (no endless retry). */
  KAFKA_SEND_TIMEOUT_MS: positiveInt.min(1000).default(30000),
  DATABASE_URL: postgresUrl,
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('public'),
  SCHEMES_DIR: z.string().min(1).default('schemes'),
  /** Named WDT and Kingdee connections (libs/connections); default config/connections.yaml when it exists. */
  CONNECTIONS_FILE: z.string().min(1).optional(),
  /**
   * `/health` turns 503 (a restart) only when a consumer made no progress this long while it has lag,
   * is not paused, its ERP circuit is closed and nothing is settling.
   */
  LIVENESS_STALL_SECONDS: positiveInt.default(600),
  /** How often scheme files are checked for changes (mtime); a change applies without a restart. */
  SCHEME_RELOAD_MS: positiveInt.min(100).default(2000),
  ...Object.fromEntries(Object.values(TOPIC_CATALOGUE).map((t) => [t.envVar, z.string().min(1).optional()])),
};

const consumerEnv = {
  KAFKA_GROUP_ID: z.string().min(1).optional(),
  CONSUMER_SESSION_TIMEOUT_MS: positiveInt.default(30000),
  CONSUMER_MAX_ATTEMPTS: positiveInt.default(5),
  CONSUMER_LAG_INTERVAL_MS: positiveInt.default(15000),
};

/** Workers that carry out operators' requests (backfill, replay, previews) look for new ones this often. */
const workRequestEnv = { WORK_REQUEST_POLL_MS: positiveInt.min(100).max(60_000).default(1000) };

/** The WDT connection (extractor, reconciler). */
export const wdtEnv = {
  WDT_GATEWAY: z.enum(['native', 'qimen']).default('native'),
  WDT_BASE_URL: httpUrl.optional(),
  /** The single-account setup: with WDT_SID set these variables define the connection `default`. */
  WDT_SID: z.string().min(1).optional(),
  WDT_APPKEY: z.string().min(1).optional(),
  WDT_APPSECRET: z.string().min(1).optional(),
  WDT_QIMEN_URL: httpUrl.optional(),
  WDT_QIMEN_APP_KEY: z.string().min(1).optional(),
  WDT_QIMEN_APP_SECRET: z.string().min(1).optional(),
  WDT_QIMEN_TARGET_APP_KEY: z.string().min(1).optional(),
  WDT_QIMEN_SIGN_METHOD: z.enum(['md5', 'hmac']).default('md5'),
  WDT_CALLS_PER_MINUTE: positiveInt.default(60),
  WDT_TIMEOUT_MS: positiveInt.default(30000),
  WDT_MAX_ATTEMPTS: positiveInt.default(5),
};

export const extractorEnv = {
  ...commonEnv,
  ...workRequestEnv,
  HTTP_PORT: port.default(3001),
  ...wdtEnv,
  /** Re-reads of a window holding malformed records before they are parked (corruption in transit heals). */
  EXTRACTOR_RECORD_REREADS: positiveInt.max(5).default(1),
};

/** Alert channels (libs/alerts): any combination; none configured means alerts are only logged. */
const alertEnv = {
  ALERT_WEBHOOK_URL: httpUrl.optional(),
  ALERT_DINGTALK_URL: httpUrl.optional(),
  ALERT_DINGTALK_SECRET: z.string().min(1).optional(),
  ALERT_WECOM_URL: httpUrl.optional(),
  ALERT_LAG_THRESHOLD_SECONDS: positiveInt.default(600),
  ALERT_MIN_INTERVAL_SECONDS: positiveInt.default(300),
};

export const transformerEnv = {
  ...commonEnv,
  ...consumerEnv,
  ...workRequestEnv,
  HTTP_PORT: port.default(3002),
};

/** The Kingdee account and how to log in (loader, reconciler); sessions are per service. */
export const kingdeeConnectionEnv = {
  /** The single-account setup: with KINGDEE_SERVER_URL set these variables define the connection `default`. */
  KINGDEE_SERVER_URL: httpUrl.optional(),
  KINGDEE_AUTH_MODE: z.enum(['validate_user', 'app_secret', 'sign', 'api_signature']).default('sign'),
  KINGDEE_ACCT_ID: z.string().min(1).optional(),
  KINGDEE_USERNAME: z.string().min(1).optional(),
  KINGDEE_PASSWORD: z.string().min(1).optional(),
  KINGDEE_APP_ID: z.string().min(1).optional(),
  KINGDEE_APP_SECRET: z.string().min(1).optional(),
  KINGDEE_LCID: positiveInt.default(2052),
  KINGDEE_ORG_NUMBER: z.string().default(''),
  KINGDEE_TIMEOUT_MS: positiveInt.default(120000),
  KINGDEE_LOGIN_BODY: z.enum(['positional', 'named']).default('positional'),
  /**
   * The account's session cap shared by every process (leased slots) for the connection `default`;
   * unset: each process keeps its own KINGDEE_SESSIONS, as before connections. File connections set `sessions`.
   */
  KINGDEE_SESSION_CAP: positiveInt.max(64).optional(),
};

export const loaderEnv = {
  ...commonEnv,
  ...consumerEnv,
  ...workRequestEnv,
  HTTP_PORT: port.default(3003),
  ...kingdeeConnectionEnv,
  KINGDEE_SESSIONS: positiveInt.default(4),
  KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: positiveInt.default(110000),
  /** Default: KINGDEE_TIMEOUT_MS + KINGDEE_SERVER_EXECUTION_TIMEOUT_MS (see `settleWindowMs`). */
  KINGDEE_SETTLE_WINDOW_MS: positiveInt.optional(),
  LOADER_BATCH_SIZE: positiveInt.max(200).default(20),
  LOADER_LINGER_MS: z.coerce.number().int().min(0).default(200),
  LOADER_LEASE_MS: positiveInt.min(1000).default(20000),
  LOADER_LEASE_SKEW_MS: positiveInt.default(2000),
  LOADER_SETTLE_POLL_MS: positiveInt.default(2000),
  LOADER_AUDIT_RETRY_MS: positiveInt.default(30000),
  LOADER_SHUTDOWN_GRACE_MS: positiveInt.default(25000),
  /**
   * Records per partition taken into processing and not yet finished (the committed offset is the
   * lowest unfinished one), above which the partition is paused until some finish.
   */
  LOADER_MAX_UNCOMMITTED: positiveInt.max(100000).default(500),
  /**
   * On a stop: how long Kingdee calls in flight may finish before they are abandoned (their bills go
   * to settling). On a rebalance no new write starts; calls in flight finish without holding it up.
   */
  LOADER_REVOKE_MS: positiveInt.max(60000).default(2000),
  /** How often codes waited for (orders refused only for base data) are looked up again in Kingdee. */
  LOADER_BASE_DATA_CHECK_MS: positiveInt.default(300000),
  /** After this long waiting for base data an order ends `failed` with the diagnosis (fractions allowed). */
  LOADER_BASE_DATA_MAX_WAIT_HOURS: z.coerce.number().positive().default(72),
  /** How long a base-data look-up of a code is reused while deciding refusals. */
  LOADER_BASE_DATA_CACHE_TTL_MS: positiveInt.default(60000),
  ...alertEnv,
};

export const auditWriterEnv = {
  ...commonEnv,
  ...consumerEnv,
  HTTP_PORT: port.default(3004),
  ...alertEnv,
  /** Days request/reply bodies and history are kept (the latest row per order is kept regardless). */
  AUDIT_RETENTION_DAYS: positiveInt.default(180),
};

export const operatorEnv = {
  ...commonEnv,
  HTTP_PORT: port.default(3005),
  OPERATOR_TOKENS: operatorTokensSchema,
  /** Console sign-in sessions last this long (fractions allowed). */
  OPERATOR_SESSION_TTL_HOURS: z.coerce.number().positive().default(12),
  /** The console's built bundle (index.html + assets). Default: the repository's dist/console. */
  OPERATOR_CONSOLE_DIR: z.string().min(1).optional(),
  /** GitOps deployments: scheme files come from the repository; the console offers edits as a download. */
  SCHEMES_READ_ONLY: bool.default(false),
};

/**
 * The reconciler (apps/reconciler) and `npm run reconcile`: WDT read at background priority under the
 * extractor's budget, Kingdee through at most RECONCILE_KINGDEE_SESSIONS sessions of the account.
 */
export const reconcilerEnv = {
  ...commonEnv,
  HTTP_PORT: port.default(3006),
  ...wdtEnv,
  ...kingdeeConnectionEnv,
  ...alertEnv,
  /** How often queued runs and requested re-pushes are looked for. */
  RECONCILE_POLL_MS: positiveInt.min(100).max(300_000).default(5000),
  /** Lease of a claimed run or re-push; renewed while it runs, taken over by another replica once expired. */
  RECONCILE_LEASE_MS: positiveInt.min(5000).default(60000),
  /** Rows per Kingdee ExecuteBillQuery page (entry lines, not bills). */
  RECONCILE_KINGDEE_PAGE_ROWS: positiveInt.max(10_000).default(2000),
  /** Kingdee sessions a reconciler may hold (the account's sessions are shared with the loader). */
  RECONCILE_KINGDEE_SESSIONS: positiveInt.max(16).default(1),
  /** false: no nightly runs from the schemes' `reconcile.cron` (requested runs are still carried out). */
  RECONCILE_SCHEDULE_ENABLED: bool.default(true),
};

export const SERVICE_ENV = {
  extractor: extractorEnv,
  transformer: transformerEnv,
  loader: loaderEnv,
  'audit-writer': auditWriterEnv,
  operator: operatorEnv,
  reconciler: reconcilerEnv,
} as const;
export type ServiceName = keyof typeof SERVICE_ENV;

export type ExtractorConfig = z.infer<z.ZodObject<typeof extractorEnv>>;
export type TransformerConfig = z.infer<z.ZodObject<typeof transformerEnv>>;
export type LoaderConfig = z.infer<z.ZodObject<typeof loaderEnv>>;

/** The settle window the loader uses (libs/loading/README.md, rule 5). */
export function settleWindowMs(config: LoaderConfig): number {
  return (
    config.KINGDEE_SETTLE_WINDOW_MS ?? config.KINGDEE_TIMEOUT_MS + config.KINGDEE_SERVER_EXECUTION_TIMEOUT_MS
  );
}
export type AuditWriterConfig = z.infer<z.ZodObject<typeof auditWriterEnv>>;
export type OperatorConfig = z.infer<z.ZodObject<typeof operatorEnv>>;
export type ReconcilerConfig = z.infer<z.ZodObject<typeof reconcilerEnv>>;
/** What a WDT client is built from (extractor, reconciler). */
export type WdtConnectionConfig = z.infer<z.ZodObject<typeof wdtEnv>>;
/** What a Kingdee session pool is built from (loader, reconciler: their own session counts). */
export type KingdeeConnectionConfig = z.infer<z.ZodObject<typeof kingdeeConnectionEnv>> & {
  KINGDEE_SESSIONS: number;
};
export type AlertConfig = z.infer<z.ZodObject<typeof alertEnv>>;
export type CommonConfig = z.infer<z.ZodObject<typeof commonEnv>>;
export type KafkaClientConfig = z.infer<z.ZodObject<typeof kafkaEnv>>;

/** Secrets: never logged, never echoed in errors (their presence is, their value is not). */
export const SECRET_ENV_VARS = [
  'KAFKA_SASL_PASSWORD',
  'DATABASE_URL',
  'WDT_APPSECRET',
  'WDT_QIMEN_APP_SECRET',
  'KINGDEE_PASSWORD',
  'KINGDEE_APP_SECRET',
  'OPERATOR_TOKENS',
  // Robot webhook URLs carry their access token in the query string.
  'ALERT_WEBHOOK_URL',
  'ALERT_DINGTALK_URL',
  'ALERT_DINGTALK_SECRET',
  'ALERT_WECOM_URL',
] as const;
