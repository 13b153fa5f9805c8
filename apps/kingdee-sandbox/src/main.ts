/**
 * Runs the Kingdee sandbox as a process: `node dist/apps/kingdee-sandbox/src/main.js`.
 * Environment: see README.md (KINGDEE_SANDBOX_PORT default 18082, credentials, materials, switches;
 * KINGDEE_SANDBOX_ACCOUNTS = a JSON array of more account sets).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { startKingdeeSandbox } from './sandbox.server';
import type { KingdeeSandboxOptions } from './sandbox.options';
import { accountSpecSchema } from './sandbox-settings.schema';

function list(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  // A file path (one code per line / comma-separated) or an inline comma-separated list.
  const text = trimmed.startsWith('@') ? readFileSync(trimmed.slice(1), 'utf8') : trimmed;
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function json(value: string | undefined, name: string): Record<string, unknown> | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}

export function optionsFromEnv(env: NodeJS.ProcessEnv): KingdeeSandboxOptions {
  const port = Number(env.KINGDEE_SANDBOX_PORT ?? 18082);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('KINGDEE_SANDBOX_PORT must be a port number');
  const credentials: KingdeeSandboxOptions['credentials'] = {};
  if (env.KINGDEE_SANDBOX_ACCT_ID) credentials.acctId = env.KINGDEE_SANDBOX_ACCT_ID;
  if (env.KINGDEE_SANDBOX_USERNAME) credentials.username = env.KINGDEE_SANDBOX_USERNAME;
  if (env.KINGDEE_SANDBOX_PASSWORD) credentials.password = env.KINGDEE_SANDBOX_PASSWORD;
  if (env.KINGDEE_SANDBOX_APP_ID) credentials.appId = env.KINGDEE_SANDBOX_APP_ID;
  if (env.KINGDEE_SANDBOX_APP_SECRET) credentials.appSecret = env.KINGDEE_SANDBOX_APP_SECRET;
  const switches = json(env.KINGDEE_SANDBOX_SWITCHES, 'KINGDEE_SANDBOX_SWITCHES') ?? {};
  if (env.KINGDEE_SANDBOX_SESSION_IDLE_MS)
    switches.sessionIdleMs = Number(env.KINGDEE_SANDBOX_SESSION_IDLE_MS);
  let accounts: KingdeeSandboxOptions['accounts'];
  if (env.KINGDEE_SANDBOX_ACCOUNTS) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.KINGDEE_SANDBOX_ACCOUNTS);
    } catch {
      throw new Error('KINGDEE_SANDBOX_ACCOUNTS is not valid JSON');
    }
    if (!Array.isArray(parsed)) throw new Error('KINGDEE_SANDBOX_ACCOUNTS must be a JSON array of accounts');
    accounts = parsed.map((entry, index) => {
      const result = accountSpecSchema.safeParse(entry);
      if (!result.success) {
        const issue = result.error.issues[0];
        throw new Error(
          `KINGDEE_SANDBOX_ACCOUNTS[${index}].${issue.path.join('.') || '(entry)'}: ${issue.message}`,
        );
      }
      return result.data;
    });
  }
  return {
    port,
    host: env.KINGDEE_SANDBOX_HOST ?? '127.0.0.1',
    accounts,
    pathPrefix: env.KINGDEE_SANDBOX_PATH_PREFIX ?? '/k3cloud/',
    credentials,
    materials: list(env.KINGDEE_SANDBOX_MATERIALS),
    switches,
    knobs: json(env.KINGDEE_SANDBOX_KNOBS, 'KINGDEE_SANDBOX_KNOBS'),
    seed: env.KINGDEE_SANDBOX_SEED ? Number(env.KINGDEE_SANDBOX_SEED) : undefined,
  };
}

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'kingdee-sandbox' });
  const sandbox = await startKingdeeSandbox({ ...optionsFromEnv(process.env), logger });
  logger.info(
    { url: sandbox.url, admin: `${new URL(sandbox.url).origin}/admin` },
    'kingdee sandbox listening',
  );
  const stop = (signal: string): void => {
    logger.info({ signal }, 'kingdee sandbox stopping');
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`kingdee sandbox failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
