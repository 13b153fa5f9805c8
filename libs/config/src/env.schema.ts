import { z } from 'zod';
import { TOPIC_CATALOGUE } from '@libs/contracts';

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

export const commonEnv = {
  APP_MODE: z.enum(['production', 'sandbox']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: brokerList,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  KAFKA_CONNECTION_TIMEOUT_MS: positiveInt.default(3000),
  KAFKA_SSL: bool.default(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_MAX_MESSAGE_BYTES: positiveInt.default(1_048_576),
  DATABASE_URL: postgresUrl,
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('public'),
  SCHEMES_DIR: z.string().min(1).default('schemes'),
  ...Object.fromEntries(Object.values(TOPIC_CATALOGUE).map((t) => [t.envVar, z.string().min(1).optional()])),
};

const consumerEnv = {
  KAFKA_GROUP_ID: z.string().min(1).optional(),
  CONSUMER_SESSION_TIMEOUT_MS: positiveInt.default(30000),
  CONSUMER_MAX_ATTEMPTS: positiveInt.default(5),
};

export const extractorEnv = {
  ...commonEnv,
  HTTP_PORT: port.default(3001),
  WDT_GATEWAY: z.enum(['native', 'qimen']).default('native'),
  WDT_BASE_URL: httpUrl.optional(),
  WDT_SID: z.string().min(1),
  WDT_APPKEY: z.string().min(1).optional(),
  WDT_APPSECRET: z.string().min(1).optional(),
  WDT_QIMEN_URL: httpUrl.optional(),
  WDT_QIMEN_APP_KEY: z.string().min(1).optional(),
  WDT_QIMEN_APP_SECRET: z.string().min(1).optional(),
  WDT_QIMEN_TARGET_APP_KEY: z.string().min(1).optional(),
  WDT_QIMEN_SIGN_METHOD: z.enum(['md5', 'hmac']).default('md5'),
  WDT_CALLS_PER_MINUTE: positiveInt.default(50),
  WDT_TIMEOUT_MS: positiveInt.default(30000),
  WDT_MAX_ATTEMPTS: positiveInt.default(5),
};

export const transformerEnv = { ...commonEnv, ...consumerEnv, HTTP_PORT: port.default(3002) };

export const loaderEnv = {
  ...commonEnv,
  ...consumerEnv,
  HTTP_PORT: port.default(3003),
  KINGDEE_SERVER_URL: httpUrl,
  KINGDEE_AUTH_MODE: z.enum(['validate_user', 'app_secret', 'sign', 'api_signature']).default('sign'),
  KINGDEE_ACCT_ID: z.string().min(1),
  KINGDEE_USERNAME: z.string().min(1),
  KINGDEE_PASSWORD: z.string().min(1).optional(),
  KINGDEE_APP_ID: z.string().min(1).optional(),
  KINGDEE_APP_SECRET: z.string().min(1).optional(),
  KINGDEE_LCID: positiveInt.default(2052),
  KINGDEE_ORG_NUMBER: z.string().default(''),
  KINGDEE_SESSIONS: positiveInt.default(4),
  KINGDEE_TIMEOUT_MS: positiveInt.default(120000),
  LOADER_BATCH_SIZE: positiveInt.max(200).default(20),
  LOADER_LINGER_MS: z.coerce.number().int().min(0).default(200),
};

export const auditWriterEnv = { ...commonEnv, ...consumerEnv, HTTP_PORT: port.default(3004) };

export const SERVICE_ENV = {
  extractor: extractorEnv,
  transformer: transformerEnv,
  loader: loaderEnv,
  'audit-writer': auditWriterEnv,
} as const;
export type ServiceName = keyof typeof SERVICE_ENV;

export type ExtractorConfig = z.infer<z.ZodObject<typeof extractorEnv>>;
export type TransformerConfig = z.infer<z.ZodObject<typeof transformerEnv>>;
export type LoaderConfig = z.infer<z.ZodObject<typeof loaderEnv>>;
export type AuditWriterConfig = z.infer<z.ZodObject<typeof auditWriterEnv>>;
export type CommonConfig = z.infer<z.ZodObject<typeof commonEnv>>;

/** Secrets: never logged, never echoed in errors (their presence is, their value is not). */
export const SECRET_ENV_VARS = [
  'KAFKA_SASL_PASSWORD',
  'DATABASE_URL',
  'WDT_APPSECRET',
  'WDT_QIMEN_APP_SECRET',
  'KINGDEE_PASSWORD',
  'KINGDEE_APP_SECRET',
] as const;
