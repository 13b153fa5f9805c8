import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { kingdeeConnectionEnv, wdtEnv } from '@libs/config';
import { KingdeeClient, KingdeeClientOptions, KingdeeError } from '@libs/kingdee-client';
import type { ConnectionsOutline } from '@libs/scheme';
import { resolveWdtClientOptions, WdtClientOptions, WdtConfigError } from '@libs/wdt-client';
import {
  ConnectionRegistry,
  KingdeeConnection,
  KingdeeConnectionView,
  WdtConnection,
  WdtConnectionView,
} from './connection.registry';
import { ConnectionsConfigError } from './connections.errors';
import {
  ConnectionsFile,
  ConnectionsFileSchema,
  describeConnectionsIssues,
  KingdeeConnectionSpec,
  SecretRef,
  WdtConnectionSpec,
} from './connections.schema';
import { resolveSecret } from './secret-ref.util';

/** Where the connections file is looked for when CONNECTIONS_FILE is not set (absent there = no file). */
export const DEFAULT_CONNECTIONS_FILE = 'config/connections.yaml';

/** The implicit connection the single-account variables (WDT_SID …, KINGDEE_SERVER_URL …) define. */
export const DEFAULT_CONNECTION = 'default';

type Env = Record<string, string | undefined>;
export type ConnectionKind = 'wdt' | 'kingdee';

export interface LoadConnectionsOptions {
  env: Env;
  /** The file; default `CONNECTIONS_FILE` of `env`, else `config/connections.yaml` when it exists. */
  file?: string;
  /** The kinds this process uses: their secrets are read (and at least one connection of each must exist). */
  kinds: ConnectionKind[];
  /** Resolves a relative file path (default: the working directory). */
  cwd?: string;
}

const SANDBOX_HOSTS = /^(127\.|localhost|\[::1\]|wdt-sandbox|kingdee-sandbox)/;

/** A WDT connection's limit key: one app key's L calls per minute, whatever sids it serves. */
export function wdtBudgetKey(spec: {
  gateway: 'native' | 'qimen';
  appKey?: string;
  qimenAppKey?: string;
}): string {
  return spec.gateway === 'qimen' ? `qimen:${spec.qimenAppKey}` : `native:${spec.appKey}`;
}

/** The account set a Kingdee connection writes to: `<host[:port]><path>#<acctId>` (default ports dropped). */
export function kingdeeAccountOf(serverUrl: string, acctId: string): string {
  const url = new URL(serverUrl);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.host.toLowerCase()}${path}#${acctId}`;
}

interface Parsed {
  file?: string;
  spec: ConnectionsFile;
  /** The implicit default connections, as specs with inline secrets from env. */
  envWdt?: { spec: WdtConnectionSpec; secrets: Record<string, string> };
  envKingdee?: {
    spec: KingdeeConnectionSpec;
    secrets: Record<string, string>;
    sessions: number;
    /** KINGDEE_SESSION_CAP: unset = no shared cap (each process its own KINGDEE_SESSIONS). */
    sessionCap?: number;
  };
}

function fileOf(opts: { env: Env; file?: string; cwd?: string }): { path?: string; explicit: boolean } {
  const cwd = opts.cwd ?? process.cwd();
  const given = opts.file ?? (opts.env.CONNECTIONS_FILE || undefined);
  if (given) return { path: resolve(cwd, given), explicit: true };
  const fallback = resolve(cwd, DEFAULT_CONNECTIONS_FILE);
  return { path: existsSync(fallback) ? fallback : undefined, explicit: false };
}

function readFile(path: string): ConnectionsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConnectionsConfigError(
      `connections file ${path} (CONNECTIONS_FILE) cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (err) {
    // The first line says what and where; the rest quotes the file, which could hold a pasted secret.
    const what = (err as Error).message.split('\n')[0].replace(/:$/, '');
    throw new ConnectionsConfigError(`connections file ${path}: not valid YAML: ${what}`);
  }
  const parsed = ConnectionsFileSchema.safeParse(data);
  if (!parsed.success) {
    const lines = describeConnectionsIssues(parsed.error).map((line) => `  ${line}`);
    throw new ConnectionsConfigError(`connections file ${path} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The single-account variables as `default` connections (only where WDT_SID / KINGDEE_SERVER_URL are set). */
function fromEnv(env: Env): Pick<Parsed, 'envWdt' | 'envKingdee'> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const out: Pick<Parsed, 'envWdt' | 'envKingdee'> = {};
  if (cleaned.WDT_SID) {
    const parsed = z.object(wdtEnv).safeParse(cleaned);
    if (!parsed.success)
      throw new ConnectionsConfigError(
        `WDT connection "default" (environment): ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`,
      );
    const c = parsed.data;
    const native = c.WDT_GATEWAY === 'native';
    // Secrets (WDT_APPSECRET, WDT_QIMEN_APP_SECRET) are references like a file's: read, and required,
    // only in a process that uses WDT (a process that does not may lack them).
    const need = native
      ? (['WDT_BASE_URL', 'WDT_APPKEY'] as const)
      : (['WDT_QIMEN_URL', 'WDT_QIMEN_APP_KEY', 'WDT_QIMEN_TARGET_APP_KEY'] as const);
    const missing = need.filter((n) => c[n] === undefined);
    if (missing.length > 0)
      throw new ConnectionsConfigError(
        `WDT connection "default" (environment): ${missing.join(', ')} required when WDT_GATEWAY=${c.WDT_GATEWAY}`,
      );
    out.envWdt = {
      spec: {
        gateway: c.WDT_GATEWAY,
        sid: c.WDT_SID!,
        baseUrl: c.WDT_BASE_URL,
        appKey: c.WDT_APPKEY,
        appSecret: native ? { env: 'WDT_APPSECRET' } : undefined,
        qimen: native
          ? undefined
          : {
              url: c.WDT_QIMEN_URL!,
              appKey: c.WDT_QIMEN_APP_KEY!,
              appSecret: { env: 'WDT_QIMEN_APP_SECRET' },
              targetAppKey: c.WDT_QIMEN_TARGET_APP_KEY,
              signMethod: c.WDT_QIMEN_SIGN_METHOD,
            },
        callsPerMinute: c.WDT_CALLS_PER_MINUTE,
        timeoutMs: c.WDT_TIMEOUT_MS,
        maxAttempts: c.WDT_MAX_ATTEMPTS,
      },
      secrets: {},
    };
  }
  if (cleaned.KINGDEE_SERVER_URL) {
    const parsed = z
      .object({ ...kingdeeConnectionEnv, KINGDEE_SESSIONS: z.coerce.number().int().positive().default(4) })
      .safeParse(cleaned);
    if (!parsed.success)
      throw new ConnectionsConfigError(
        `Kingdee connection "default" (environment): ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`,
      );
    const c = parsed.data;
    // Secrets (KINGDEE_PASSWORD, KINGDEE_APP_SECRET) are references: required only where Kingdee is used.
    const validateUser = c.KINGDEE_AUTH_MODE === 'validate_user';
    const missing = (
      validateUser
        ? (['KINGDEE_ACCT_ID', 'KINGDEE_USERNAME'] as const)
        : (['KINGDEE_ACCT_ID', 'KINGDEE_USERNAME', 'KINGDEE_APP_ID'] as const)
    ).filter((n) => c[n] === undefined);
    if (missing.length > 0)
      throw new ConnectionsConfigError(
        `Kingdee connection "default" (environment): ${missing.join(', ')} required with KINGDEE_SERVER_URL (KINGDEE_AUTH_MODE=${c.KINGDEE_AUTH_MODE})`,
      );
    out.envKingdee = {
      spec: {
        serverUrl: c.KINGDEE_SERVER_URL!,
        acctId: c.KINGDEE_ACCT_ID!,
        username: c.KINGDEE_USERNAME!,
        authMode: c.KINGDEE_AUTH_MODE,
        // Passed whenever set, as the services always did; required by the auth mode.
        password: validateUser || c.KINGDEE_PASSWORD !== undefined ? { env: 'KINGDEE_PASSWORD' } : undefined,
        appId: c.KINGDEE_APP_ID,
        appSecret:
          !validateUser || c.KINGDEE_APP_SECRET !== undefined ? { env: 'KINGDEE_APP_SECRET' } : undefined,
        lcid: c.KINGDEE_LCID,
        orgNumber: c.KINGDEE_ORG_NUMBER,
        loginBody: c.KINGDEE_LOGIN_BODY,
        sessions: c.KINGDEE_SESSIONS,
        timeoutMs: c.KINGDEE_TIMEOUT_MS,
      },
      secrets: {},
      sessions: c.KINGDEE_SESSIONS,
      sessionCap: c.KINGDEE_SESSION_CAP,
    };
  }
  return out;
}

function parseAll(opts: { env: Env; file?: string; cwd?: string }): Parsed {
  const { path, explicit } = fileOf(opts);
  if (explicit && path && !existsSync(path))
    throw new ConnectionsConfigError(`connections file ${path} (CONNECTIONS_FILE) does not exist`);
  const spec = path ? readFile(path) : { wdt: {}, kingdee: {} };
  const envSide = fromEnv(opts.env);
  if (envSide.envWdt && spec.wdt[DEFAULT_CONNECTION])
    throw new ConnectionsConfigError(
      `WDT connection "default" is defined twice: under wdt: in ${path} and by WDT_SID in the environment; keep one`,
    );
  if (envSide.envKingdee && spec.kingdee[DEFAULT_CONNECTION])
    throw new ConnectionsConfigError(
      `Kingdee connection "default" is defined twice: under kingdee: in ${path} and by KINGDEE_SERVER_URL in the environment; keep one`,
    );
  return { file: path, spec, ...envSide };
}

function wdtEntries(p: Parsed): Array<[string, WdtConnectionSpec, 'file' | 'env']> {
  const out: Array<[string, WdtConnectionSpec, 'file' | 'env']> = Object.entries(p.spec.wdt).map(([n, s]) => [
    n,
    s,
    'file',
  ]);
  if (p.envWdt) out.unshift([DEFAULT_CONNECTION, p.envWdt.spec, 'env']);
  return out;
}

function kingdeeEntries(p: Parsed): Array<[string, KingdeeConnectionSpec, 'file' | 'env']> {
  const out: Array<[string, KingdeeConnectionSpec, 'file' | 'env']> = Object.entries(p.spec.kingdee).map(
    ([n, s]) => [n, s, 'file'],
  );
  if (p.envKingdee) out.unshift([DEFAULT_CONNECTION, p.envKingdee.spec, 'env']);
  return out;
}

function wdtView(name: string, s: WdtConnectionSpec, origin: 'file' | 'env'): WdtConnectionView {
  return {
    name,
    gateway: s.gateway,
    sid: s.sid,
    budgetKey: wdtBudgetKey({ gateway: s.gateway, appKey: s.appKey, qimenAppKey: s.qimen?.appKey }),
    callsPerMinute: s.callsPerMinute,
    url: (s.gateway === 'qimen' ? s.qimen?.url : s.baseUrl) ?? '',
    ...(s.gateway === 'qimen' ? { qimenUrl: s.qimen?.url } : { baseUrl: s.baseUrl }),
    appKey: (s.gateway === 'qimen' ? s.qimen?.appKey : s.appKey) ?? '',
    origin,
  };
}

function kingdeeView(name: string, s: KingdeeConnectionSpec, origin: 'file' | 'env'): KingdeeConnectionView {
  return {
    name,
    account: kingdeeAccountOf(s.serverUrl, s.acctId),
    serverUrl: s.serverUrl,
    acctId: s.acctId,
    username: s.username,
    authMode: s.authMode,
    sessionCap: origin === 'env' ? null : s.sessions,
    origin,
  };
}

/** Cross-connection rules: one shop once, one L per app key, one connection per Kingdee account. */
function checkAcross(wdt: WdtConnectionView[], kingdee: KingdeeConnectionView[]): void {
  const byKey = new Map<string, WdtConnectionView>();
  const shops = new Map<string, WdtConnectionView>();
  for (const v of wdt) {
    const other = byKey.get(v.budgetKey);
    if (other && other.callsPerMinute !== v.callsPerMinute)
      throw new ConnectionsConfigError(
        `WDT connections "${other.name}" and "${v.name}" share app key ${v.appKey} (${v.gateway}) but set callsPerMinute ${other.callsPerMinute} and ${v.callsPerMinute}: one app key has one limit`,
      );
    byKey.set(v.budgetKey, other ?? v);
    const shop = `${v.budgetKey}|${v.sid}`;
    const same = shops.get(shop);
    if (same)
      throw new ConnectionsConfigError(
        `WDT connections "${same.name}" and "${v.name}" are the same shop (sid ${v.sid} on app key ${v.appKey}): keep one and let both schemes use it`,
      );
    shops.set(shop, v);
  }
  const accounts = new Map<string, KingdeeConnectionView>();
  for (const v of kingdee) {
    const same = accounts.get(v.account);
    if (same)
      throw new ConnectionsConfigError(
        `Kingdee connections "${same.name}" and "${v.name}" are the same account set (${v.account}, from serverUrl and acctId): bills are identified per account, so one account has one connection`,
      );
    accounts.set(v.account, v);
  }
}

function checkHosts(env: Env, wdt: WdtConnectionView[], kingdee: KingdeeConnectionView[]): void {
  if ((env.APP_MODE ?? 'production') !== 'production') return;
  const urls: Array<[string, string]> = [
    ...wdt.map((v): [string, string] => [`WDT connection "${v.name}"`, v.url]),
    ...kingdee.map((v): [string, string] => [`Kingdee connection "${v.name}"`, v.serverUrl]),
  ];
  for (const [what, url] of urls)
    if (url && SANDBOX_HOSTS.test(new URL(url).host))
      throw new ConnectionsConfigError(
        `${what}: ${url} is a sandbox/loopback host in APP_MODE=production; set APP_MODE=sandbox to use a sandbox`,
      );
}

function secret(
  ref: SecretRef | undefined,
  kind: ConnectionKind,
  connection: string,
  field: string,
  env: Env,
): string | undefined {
  return ref === undefined ? undefined : resolveSecret(ref, { kind, connection, field }, env);
}

function resolveWdt(name: string, s: WdtConnectionSpec, origin: 'file' | 'env', env: Env): WdtConnection {
  const view = wdtView(name, s, origin);
  const clientOptions: WdtClientOptions = {
    gateway: s.gateway,
    sid: s.sid,
    baseUrl: s.baseUrl,
    appkey: s.appKey,
    appsecret: s.gateway === 'native' ? secret(s.appSecret, 'wdt', name, 'appSecret', env) : undefined,
    qimen:
      s.gateway === 'qimen' && s.qimen
        ? {
            url: s.qimen.url,
            appKey: s.qimen.appKey,
            appSecret: secret(s.qimen.appSecret, 'wdt', name, 'qimen.appSecret', env)!,
            targetAppKey: s.qimen.targetAppKey,
            signMethod: s.qimen.signMethod,
          }
        : undefined,
    timeoutMs: s.timeoutMs,
    maxAttempts: s.maxAttempts,
    callsPerMinute: s.callsPerMinute,
  };
  try {
    resolveWdtClientOptions(clientOptions);
  } catch (err) {
    if (err instanceof WdtConfigError)
      throw new ConnectionsConfigError(`WDT connection "${name}": ${err.message}`);
    throw err;
  }
  return { ...view, origin, clientOptions };
}

function resolveKingdee(
  name: string,
  s: KingdeeConnectionSpec,
  origin: 'file' | 'env',
  env: Env,
  sharedCap: number | undefined,
): KingdeeConnection {
  const view = kingdeeView(name, s, origin);
  const clientOptions: KingdeeClientOptions = {
    serverUrl: s.serverUrl,
    acctId: s.acctId,
    username: s.username,
    password: secret(s.password, 'kingdee', name, 'password', env),
    appId: s.appId,
    appSecret: secret(s.appSecret, 'kingdee', name, 'appSecret', env),
    lcid: s.lcid,
    orgNumber: s.orgNumber || undefined,
    authMode: s.authMode,
    loginBody: s.loginBody,
    sessions: s.sessions,
    timeoutMs: s.timeoutMs,
  };
  try {
    // The client's own checks (e.g. an api_signature appId's form) at boot, not at the first bill.
    new KingdeeClient(clientOptions);
  } catch (err) {
    if (err instanceof KingdeeError)
      throw new ConnectionsConfigError(`Kingdee connection "${name}": ${err.message}`);
    throw err;
  }
  return { name, account: view.account, sessionCap: sharedCap, origin, clientOptions };
}

/**
 * The connections a process may use: the file's, plus `default` from the single-account variables.
 * Secrets of the `kinds` asked for are read now (a missing reference stops the boot, naming the
 * connection and the reference); each kind asked for must have at least one connection.
 */
export function loadConnections(opts: LoadConnectionsOptions): ConnectionRegistry {
  const parsed = parseAll(opts);
  const wdt = wdtEntries(parsed);
  const kingdee = kingdeeEntries(parsed);
  const wdtViews = wdt.map(([n, s, o]) => wdtView(n, s, o));
  const kingdeeViews = kingdee.map(([n, s, o]) => ({
    ...kingdeeView(n, s, o),
    ...(o === 'env' ? { sessionCap: parsed.envKingdee?.sessionCap ?? null } : {}),
  }));
  checkAcross(wdtViews, kingdeeViews);
  checkHosts(opts.env, wdtViews, kingdeeViews);
  const where = `${parsed.file ?? DEFAULT_CONNECTIONS_FILE} (CONNECTIONS_FILE)`;
  if (opts.kinds.includes('wdt') && wdt.length === 0)
    throw new ConnectionsConfigError(
      `no WDT connection: set WDT_SID (and its keys) or list connections under wdt: in ${where}`,
    );
  if (opts.kinds.includes('kingdee') && kingdee.length === 0)
    throw new ConnectionsConfigError(
      `no Kingdee connection: set KINGDEE_SERVER_URL (and its account and keys) or list connections under kingdee: in ${where}`,
    );
  const wdtResolved = new Map<string, WdtConnection>();
  if (opts.kinds.includes('wdt'))
    for (const [n, s, o] of wdt) wdtResolved.set(n, resolveWdt(n, s, o, opts.env));
  const kingdeeResolved = new Map<string, KingdeeConnection>();
  if (opts.kinds.includes('kingdee'))
    for (const [n, s, o] of kingdee)
      kingdeeResolved.set(
        n,
        resolveKingdee(n, s, o, opts.env, o === 'env' ? parsed.envKingdee?.sessionCap : s.sessions),
      );
  return new ConnectionRegistry(
    new Map(wdtViews.map((v) => [v.name, v])),
    new Map(kingdeeViews.map((v) => [v.name, v])),
    wdtResolved,
    kingdeeResolved,
    parsed.file ? `${parsed.file} and the environment` : 'the environment',
  );
}

/** Names, sids and accounts only (no secret is read): scheme:check and the console. */
export function readConnectionsOutline(opts: { env: Env; file?: string; cwd?: string }): ConnectionsOutline {
  return loadConnections({ ...opts, kinds: [] }).outline();
}
