import { AppLogger } from '@libs/common';
import { WdtSandboxAccountSpec, accountSpecSchema } from './sandbox-state';
import { startWdtSandbox } from './wdt-sandbox.server';

/**
 * Runs the WDT sandbox as a process: `node dist/apps/wdt-sandbox/src/main.js`.
 * Env: WDT_SANDBOX_PORT (18081), WDT_SANDBOX_HOST (127.0.0.1), WDT_SANDBOX_SID, WDT_SANDBOX_APPKEY,
 * WDT_SANDBOX_APPSECRET, WDT_SANDBOX_QIMEN_APPKEY, WDT_SANDBOX_QIMEN_SECRET,
 * WDT_SANDBOX_QIMEN_TARGET_APPKEY, WDT_SANDBOX_SEED_COUNT (0), WDT_SANDBOX_SEED_LAZY (0; 1 = generate
 * the seeded orders on demand), WDT_SANDBOX_SEED (1),
 * WDT_SANDBOX_CALLS_PER_MINUTE (60, per sid), WDT_SANDBOX_APPKEY_CALLS_PER_MINUTE (0 = off, per app key),
 * WDT_SANDBOX_APPKEY_LIMITS (JSON `{"<appKey>": n}`), WDT_SANDBOX_RATE_LIMIT_WINDOW_MS (60000),
 * WDT_SANDBOX_LATENCY_MS (0), WDT_SANDBOX_ACCOUNTS (JSON array of more accounts, see README).
 * The single-account variables define the first account.
 */
function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new Error(`${name} must be an integer`);
  return Number(raw);
}

const str = (name: string): string | undefined => process.env[name] || undefined;

function jsonEnv(name: string): unknown {
  const raw = str(name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`${name} is not valid JSON`);
  }
}

/** `WDT_SANDBOX_ACCOUNTS`: a JSON array of account specs (validated when the sandbox adds them). */
function accountsEnv(): WdtSandboxAccountSpec[] | undefined {
  const value = jsonEnv('WDT_SANDBOX_ACCOUNTS');
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new Error('WDT_SANDBOX_ACCOUNTS must be a JSON array of accounts');
  return value.map((entry, index) => {
    const parsed = accountSpecSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `WDT_SANDBOX_ACCOUNTS[${index}].${issue.path.join('.') || '(entry)'}: ${issue.message}`,
      );
    }
    return parsed.data;
  });
}

/** One JSON line per event on stdout; fields are ids and counts only. */
const log = (level: string) =>
  ((objOrMsg: Record<string, unknown> | string, msg?: string) => {
    const fields = typeof objOrMsg === 'string' ? { msg: objOrMsg } : { ...objOrMsg, msg };
    process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), ...fields })}\n`);
  }) as AppLogger['info'];
const logger: AppLogger = {
  debug: () => undefined,
  info: log('info'),
  warn: log('warn'),
  error: log('error'),
};

async function main(): Promise<void> {
  const sandbox = await startWdtSandbox({
    port: intEnv('WDT_SANDBOX_PORT', 18081),
    host: str('WDT_SANDBOX_HOST') ?? '127.0.0.1',
    sid: str('WDT_SANDBOX_SID'),
    appkey: str('WDT_SANDBOX_APPKEY'),
    appsecret: str('WDT_SANDBOX_APPSECRET'),
    qimenAppKey: str('WDT_SANDBOX_QIMEN_APPKEY'),
    qimenSecret: str('WDT_SANDBOX_QIMEN_SECRET'),
    qimenTargetAppKey: str('WDT_SANDBOX_QIMEN_TARGET_APPKEY'),
    seedCount: intEnv('WDT_SANDBOX_SEED_COUNT', 0),
    seedLazy: intEnv('WDT_SANDBOX_SEED_LAZY', 0) === 1,
    seed: intEnv('WDT_SANDBOX_SEED', 1),
    accounts: accountsEnv(),
    knobs: {
      callsPerMinute: intEnv('WDT_SANDBOX_CALLS_PER_MINUTE', 60),
      rateLimitWindowMs: intEnv('WDT_SANDBOX_RATE_LIMIT_WINDOW_MS', 60_000),
      appKeyCallsPerMinute: intEnv('WDT_SANDBOX_APPKEY_CALLS_PER_MINUTE', 0),
      appKeyLimits: (jsonEnv('WDT_SANDBOX_APPKEY_LIMITS') ?? {}) as Record<string, number>,
      latencyMs: intEnv('WDT_SANDBOX_LATENCY_MS', 0),
    },
    logger,
  });
  logger.info(
    {
      url: sandbox.url,
      sids: sandbox.sellers().map((s) => s.account.sid),
      orders: sandbox.store.size,
    },
    'wdt-sandbox started',
  );
  const stop = (signal: string) => {
    logger.info({ signal }, 'wdt-sandbox stopping');
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  logger.error(
    { err: error instanceof Error ? error.message : String(error) },
    'wdt-sandbox failed to start',
  );
  process.exit(1);
});
