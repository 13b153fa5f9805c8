import { z } from 'zod';
import { kafkaEnv, KafkaClientConfig, SECRET_ENV_VARS, SERVICE_ENV, ServiceName } from './env.schema';

/** The validated configuration of one service. */
export type ServiceConfig<S extends ServiceName> = z.infer<z.ZodObject<(typeof SERVICE_ENV)[S]>>;

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
}

/** Validates `env` against a service's schema; the error lists every bad variable by name. */
export function loadServiceConfig<S extends ServiceName>(
  service: S,
  env: Record<string, string | undefined> = process.env,
): ServiceConfig<S> {
  const config = validateEnv(service, SERVICE_ENV[service] as z.ZodRawShape, env) as ServiceConfig<S>;
  assertProductionSafety(service, config as Record<string, unknown>);
  return config;
}

/**
 * The Kafka slice alone, for tools that need a Kafka client but no service's configuration (the setup
 * Job's `topics:provision`): validated by the same rules as the services'.
 */
export function loadKafkaClientConfig(
  label: string,
  env: Record<string, string | undefined> = process.env,
): KafkaClientConfig {
  return validateEnv(label, kafkaEnv, env) as KafkaClientConfig;
}

function validateEnv(
  label: string,
  shape: z.ZodRawShape,
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  // Empty strings in .env files mean "unset", not "the empty value".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(env)');
      const secret = (SECRET_ENV_VARS as readonly string[]).includes(name);
      const given =
        cleaned[name] === undefined ? 'not set' : secret ? 'set (value hidden)' : `got "${cleaned[name]}"`;
      const what = cleaned[name] === undefined ? 'required' : issue.message;
      return `  ${name}: ${what} (${given})`;
    });
    throw new ConfigValidationError(`Invalid configuration for ${label}:\n${lines.join('\n')}`);
  }
  const config = result.data as Record<string, unknown>;
  const missing = requiredTogether(config);
  if (missing.length > 0) {
    throw new ConfigValidationError(
      `Invalid configuration for ${label}:\n${missing.map((m) => `  ${m}`).join('\n')}`,
    );
  }
  return config;
}

/** Variables that become required by the choice of gateway or auth mode. */
function requiredTogether(config: Record<string, unknown>): string[] {
  const need = (names: string[], why: string) =>
    names.filter((n) => config[n] === undefined).map((n) => `${n}: required when ${why} (not set)`);
  const out: string[] = [];
  // A partial SASL setting would otherwise connect without authentication and fail far from the cause.
  const sasl = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
  const saslSet = sasl.filter((n) => config[n] !== undefined);
  if (saslSet.length > 0 && saslSet.length < sasl.length)
    out.push(
      ...sasl
        .filter((n) => config[n] === undefined)
        .map(
          (n) =>
            `${n}: required when ${saslSet.join(' and ')} ${saslSet.length > 1 ? 'are' : 'is'} set: SASL takes all three variables or none (not set)`,
        ),
    );
  // The single-account variables are one way to define a connection (`default`): checked when used.
  const wdtDefault = config.WDT_SID !== undefined;
  const kingdeeDefault = config.KINGDEE_SERVER_URL !== undefined;
  if (wdtDefault && config.WDT_GATEWAY === 'native')
    out.push(...need(['WDT_BASE_URL', 'WDT_APPKEY', 'WDT_APPSECRET'], 'WDT_GATEWAY=native'));
  if (wdtDefault && config.WDT_GATEWAY === 'qimen')
    out.push(
      ...need(
        ['WDT_QIMEN_URL', 'WDT_QIMEN_APP_KEY', 'WDT_QIMEN_APP_SECRET', 'WDT_QIMEN_TARGET_APP_KEY'],
        'WDT_GATEWAY=qimen',
      ),
    );
  const mode = config.KINGDEE_AUTH_MODE;
  if (kingdeeDefault && mode === 'validate_user')
    out.push(...need(['KINGDEE_PASSWORD'], 'KINGDEE_AUTH_MODE=validate_user'));
  if (kingdeeDefault) out.push(...need(['KINGDEE_ACCT_ID', 'KINGDEE_USERNAME'], 'KINGDEE_SERVER_URL is set'));
  if (kingdeeDefault && (mode === 'app_secret' || mode === 'sign' || mode === 'api_signature'))
    out.push(...need(['KINGDEE_APP_ID', 'KINGDEE_APP_SECRET'], `KINGDEE_AUTH_MODE=${String(mode)}`));
  const lease = config.LOADER_LEASE_MS;
  const skew = config.LOADER_LEASE_SKEW_MS;
  if (typeof lease === 'number' && typeof skew === 'number' && lease < 4 * skew)
    out.push(
      `LOADER_LEASE_MS: must be at least 4 × LOADER_LEASE_SKEW_MS (${lease} < 4 × ${skew}): a lease renewed every quarter must outlive its skew margin`,
    );
  return out;
}

const SANDBOX_HOSTS = /^(127\.|localhost|\[::1\]|wdt-sandbox|kingdee-sandbox)/;

/**
 * In production mode nothing may point at a sandbox by accident: sandbox URLs are never defaults,
 * and a loopback or sandbox host needs APP_MODE=sandbox.
 */
function assertProductionSafety(service: ServiceName, config: Record<string, unknown>): void {
  if (config.APP_MODE !== 'production') return;
  const urls = ['WDT_BASE_URL', 'WDT_QIMEN_URL', 'KINGDEE_SERVER_URL'] as const;
  for (const name of urls) {
    const value = config[name];
    if (typeof value === 'string' && SANDBOX_HOSTS.test(new URL(value).host)) {
      throw new ConfigValidationError(
        `Invalid configuration for ${service}:\n  ${name}: points at a sandbox/loopback host in APP_MODE=production; set APP_MODE=sandbox to use a sandbox`,
      );
    }
  }
}
