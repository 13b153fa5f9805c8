import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppLogger, silentLogger, systemClock } from '@libs/common';
import {
  DEFAULT_SANDBOX_CREDENTIALS,
  type KingdeeSandboxAccountOptions,
  type KingdeeSandboxCredentials,
  type KingdeeSandboxOptions,
  SANDBOX_WRITE_METHODS,
  type SandboxWriteMethod,
} from './sandbox.options';
import { type ResetRequest, SandboxAdmin, type SandboxControl } from './sandbox-admin.controller';
import { SandboxAccount, SandboxAccounts } from './sandbox-accounts.service';
import { SandboxAuth } from './sandbox-auth.handler';
import { BodyError, dataParam, type ParsedEnvelope, param, parseEnvelope } from './sandbox-body.util';
import { sendJson } from './sandbox-http.util';
import { errorReply, lostSessionReply, throttledReply, wrapQueryError } from './sandbox-reply.util';
import type { SandboxSession, SandboxSessions } from './sandbox-session.service';
import type { SandboxOutcome, SandboxStats } from './sandbox-stats.service';
import type { SandboxStore } from './sandbox.store';

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const WRITE_METHODS = new Set<string>(SANDBOX_WRITE_METHODS);
const FORM_METHODS = new Set([...WRITE_METHODS, 'View', 'ExecuteBillQuery']);
const LOGIN_METHODS = new Set(['ValidateUser', 'LoginByAppSecret', 'LoginBySign']);

/** One account set of a running sandbox (in-process handle): its data, sessions, stats and controls. */
export interface KingdeeSandboxAccount extends SandboxControl {
  acctId: string;
  /** Read live: changing a secret here changes what logins accept. */
  credentials: KingdeeSandboxCredentials;
  store: SandboxStore;
  stats: SandboxStats;
  sessions: SandboxSessions;
}

/**
 * A running sandbox (in-process handle). `store`, `stats`, `sessions`, `credentials`, `knobs()`,
 * `setKnobs()`, `switches()`, `setSwitches()` and `faults()` are the first account's; `reset()` and
 * `dropSessions()` act on every account.
 */
export interface KingdeeSandbox extends SandboxControl {
  /** Base URL for the client's `serverUrl`, e.g. `http://127.0.0.1:40123/k3cloud/`. */
  url: string;
  port: number;
  store: SandboxStore;
  stats: SandboxStats;
  sessions: SandboxSessions;
  credentials: KingdeeSandboxCredentials;
  /** The account set `acctId` names (absent: the first); throws `UnknownAccountError`. */
  account(acctId?: string): KingdeeSandboxAccount;
  /** Every account set, the first one first. */
  accounts(): KingdeeSandboxAccount[];
  /** Adds an account set (as `POST /admin/accounts`); throws on a bad spec or a taken acctId. */
  addAccount(spec: KingdeeSandboxAccountOptions): KingdeeSandboxAccount;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyError('请求报文过大'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sessionCookies(session: SandboxSession): string[] {
  return [
    `kdservice-sessionid=${session.id}; path=/; HttpOnly`,
    `ASP.NET_SessionId=${session.aspNetId}; path=/; HttpOnly`,
  ];
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The HTTP server: Kingdee services under any prefix (`…/{ServiceName}.common.kdsvc`) and `/admin/...`. */
class SandboxServer {
  readonly accounts: SandboxAccounts;
  private readonly admin: SandboxAdmin;
  private readonly logger: AppLogger;

  constructor(credentials: KingdeeSandboxCredentials, options: KingdeeSandboxOptions) {
    this.logger = options.logger ?? silentLogger;
    const baseData = { ...(options.baseData ?? {}) };
    if (options.materials) baseData.materials = options.materials;
    this.accounts = new SandboxAccounts({
      credentials,
      knobs: options.knobs,
      switches: options.switches,
      baseData,
      seed: options.seed ?? 42,
      clock: options.clock ?? systemClock,
      logger: this.logger,
    });
    for (const spec of options.accounts ?? []) this.accounts.add(spec);
    this.admin = new SandboxAdmin(this.accounts);
  }

  /** Ends held replies and cancels pending late commits, so `close()` does not wait for them. */
  releaseHeld(): void {
    for (const account of this.accounts.all()) account.writes.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const path = url.pathname;
    if (path === '/admin' || path.startsWith('/admin/')) {
      const text = await readBody(req);
      let body: unknown = undefined;
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          sendJson(res, 400, { error: 'invalid JSON body' });
          return;
        }
      }
      const reply = this.admin.handle(req.method ?? 'GET', path, url.searchParams, body);
      sendJson(res, reply.status, reply.body);
      return;
    }
    const match = /\/([A-Za-z0-9_.]+)\.common\.kdsvc$/.exec(path);
    if (req.method !== 'POST' || !match) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    const parts = match[1].split('.');
    const method = parts[parts.length - 1];
    const group = parts[parts.length - 2] ?? '';
    const service = `${group}.${method}`;
    if (group === 'AuthService' && LOGIN_METHODS.has(method))
      return this.handleLogin(req, res, method, service);
    if (group === 'DynamicFormService' && FORM_METHODS.has(method))
      return this.handleForm(req, res, method, service);
    const account = this.accounts.first;
    account.stats.begin(service);
    try {
      await readBody(req);
      sendJson(res, 404, { error: `unknown service ${match[1]}` });
    } finally {
      account.stats.end(service);
    }
  }

  /** A login goes to the account its acctId names (unknown: the first, which refuses it). */
  private async handleLogin(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
  ): Promise<void> {
    const text = await readBody(req);
    let envelope: ParsedEnvelope | undefined;
    let bodyError: unknown;
    try {
      envelope = parseEnvelope(text);
    } catch (err) {
      bodyError = err;
    }
    const acctId = envelope ? param(envelope, 0, 'acctID', 'acctId') : undefined;
    const account = this.accounts.forLogin(
      acctId === undefined || acctId === null ? undefined : String(acctId),
    );
    account.stats.begin(service);
    try {
      const knobs = account.settings.knobs;
      if (knobs.faultsOnAuth) {
        if (knobs.latencyMs > 0) await delay(knobs.latencyMs);
        if (account.faults.fire('http5xxBefore')) return this.send5xx(account, res, service);
      }
      if (!envelope) {
        account.stats.record(service, 'bad_request');
        sendJson(res, 200, errorReply(8, bodyError instanceof BodyError ? bodyError.message : '参数错误'));
        return;
      }
      const outcome = account.auth.login(method, envelope);
      account.stats.record(service, outcome.session ? 'ok' : outcome.unbound ? 'bad_request' : 'auth_failed');
      if (outcome.session) account.stats.login();
      sendJson(res, 200, outcome.body, outcome.session ? sessionCookies(outcome.session) : []);
    } finally {
      account.stats.end(service);
    }
  }

  private send5xx(account: SandboxAccount, res: ServerResponse, service: string): void {
    account.stats.record(service, 'http_5xx');
    const status = account.settings.knobs.http5xxStatus;
    const text = `<html><head><title>Runtime Error</title></head><body><h1>Server Error (${status})</h1></body></html>`;
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  /**
   * A business call acts on one account: a signed request's (`X-KD-AppData` names the acctId; unknown:
   * the first, whose checks refuse it), else the account holding the session (none: the first, which
   * answers "session lost").
   */
  private async handleForm(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
  ): Promise<void> {
    const sid =
      cookieValue(req, 'kdservice-sessionid') ??
      headerValue(req, 'kdservice-sessionid') ??
      headerValue(req, 'sid');
    const signed = this.accounts.first.auth.isSigned(req.headers);
    const account = signed
      ? this.accounts.forLogin(SandboxAuth.signedAcctId(req.headers))
      : (this.accounts.owningSession(sid) ?? this.accounts.first);
    account.stats.begin(service);
    try {
      await this.handleAccountForm(account, req, res, method, service, sid);
    } finally {
      account.stats.end(service);
    }
  }

  private async handleAccountForm(
    account: SandboxAccount,
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
    sid: string | undefined,
  ): Promise<void> {
    const text = await readBody(req);
    const isQuery = method === 'ExecuteBillQuery';
    const wrap = (reply: unknown): unknown => (isQuery ? wrapQueryError(reply) : reply);

    // Who is calling: signed request (api_signature) or a session cookie/header of this account.
    let session = account.sessions.get(sid);
    let issued: string[] = [];
    if (account.auth.isSigned(req.headers)) {
      const check = account.auth.verifySignature(req.headers, req.url ?? '/');
      if (!check.ok) {
        account.stats.record(service, 'auth_failed');
        sendJson(res, 200, wrap(errorReply(1, check.message)));
        return;
      }
      if (!session || session.username !== check.username) {
        session = account.sessions.create(check.username);
        issued = sessionCookies(session);
      }
    }
    if (!session) {
      account.stats.record(service, 'lost_session');
      sendJson(res, 200, wrap(lostSessionReply()));
      return;
    }
    const current = session;
    const run = (): Promise<void> =>
      this.runForm(account, req, res, method, service, text, current, issued, wrap);
    if (account.settings.switches.serialisePerSession) await account.sessions.serialise(current, run);
    else await run();
  }

  private async runForm(
    account: SandboxAccount,
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
    text: string,
    session: SandboxSession,
    cookies: string[],
    wrap: (reply: unknown) => unknown,
  ): Promise<void> {
    const { stats, sessions, faults } = account;
    stats.enterSession(session.id);
    try {
      const knobs = account.settings.knobs;
      const lost = (): void => {
        stats.record(service, 'lost_session');
        sendJson(res, 200, wrap(lostSessionReply()));
      };
      // Dropped while this request waited for the session (a drop or the call limit just before it).
      if (!sessions.isLive(session.id)) return lost();
      if (knobs.sessionCallLimit > 0 && session.calls >= knobs.sessionCallLimit) {
        sessions.drop(session.id);
        faults.count('sessionCallLimit');
        return lost();
      }
      session.calls += 1;
      if (knobs.latencyMs > 0) await delay(knobs.latencyMs);
      if (faults.fire('http5xxBefore')) return this.send5xx(account, res, service);
      if (faults.fire('sessionDrop')) {
        sessions.drop(session.id);
        return lost();
      }
      if (faults.fire('throttled')) {
        stats.record(service, 'throttled');
        sendJson(res, 200, wrap(throttledReply()));
        return;
      }
      if (WRITE_METHODS.has(method)) {
        // Envelope errors surface inside `apply`/`refuse`, where the write faults see them.
        const envelope = (): ParsedEnvelope => parseEnvelope(text);
        await account.writes.run({
          req,
          res,
          method: method as SandboxWriteMethod,
          service,
          cookies,
          apply: (options) => this.dispatch(account, method, envelope(), options),
          refuse: () => this.refuse(account, method, envelope()),
        });
        return;
      }
      let reply: unknown;
      let outcome: SandboxOutcome;
      try {
        reply = this.dispatch(account, method, parseEnvelope(text));
        outcome = this.isFailure(reply) ? 'business_error' : 'ok';
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        reply = wrap(errorReply(8, err.message));
        outcome = 'bad_request';
      }
      stats.record(service, outcome);
      sendJson(res, 200, reply, cookies);
    } finally {
      stats.leaveSession(session.id);
    }
  }

  private isFailure(reply: unknown): boolean {
    if (Array.isArray(reply)) {
      const first = (reply[0] as unknown[] | undefined)?.[0];
      return typeof first === 'object' && first !== null && 'Result' in first;
    }
    const status = (reply as { Result?: { ResponseStatus?: { IsSuccess?: boolean } } }).Result
      ?.ResponseStatus;
    return status?.IsSuccess === false;
  }

  private dispatch(
    account: SandboxAccount,
    method: string,
    envelope: ParsedEnvelope,
    options: { autoAuditFails?: boolean } = {},
  ): unknown {
    if (method === 'ExecuteBillQuery') return account.query.execute(dataParam(param(envelope, 0, 'data')));
    const formId = param(envelope, 0, 'formid', 'formId');
    const data = dataParam(param(envelope, 1, 'data'));
    switch (method) {
      case 'Save':
        return account.bills.save(formId, data, false, options);
      case 'BatchSave':
        return account.bills.save(formId, data, true, options);
      case 'View':
        return account.bills.view(formId, data);
      case 'Submit':
      case 'Audit':
      case 'UnAudit':
      case 'Delete':
        return account.bills.transition(method, formId, data);
      default:
        throw new BodyError(`不支持的操作 ${method}`);
    }
  }

  /** The refusal of a Submit/Audit (fault `submitAuditFailure`). */
  private refuse(account: SandboxAccount, method: string, envelope: ParsedEnvelope): unknown {
    if (method !== 'Submit' && method !== 'Audit') throw new Error(`cannot refuse ${method}`);
    return account.bills.refuseTransition(
      method,
      param(envelope, 0, 'formid', 'formId'),
      dataParam(param(envelope, 1, 'data')),
    );
  }
}

function accountHandle(account: SandboxAccount): KingdeeSandboxAccount & { control: SandboxControl } {
  return {
    acctId: account.acctId,
    credentials: account.credentials,
    store: account.store,
    stats: account.stats,
    sessions: account.sessions,
    control: account.control,
    ...account.control,
  };
}

/**
 * Starts a Kingdee K/3 Cloud Web API sandbox on `host:port` (port 0 = any free port).
 * Returns the base URL for the client, the store, control functions and `close()`.
 */
export async function startKingdeeSandbox(options: KingdeeSandboxOptions = {}): Promise<KingdeeSandbox> {
  const credentials: KingdeeSandboxCredentials = {
    ...DEFAULT_SANDBOX_CREDENTIALS,
    ...(options.credentials ?? {}),
  };
  const sandbox = new SandboxServer(credentials, options);
  const logger = options.logger ?? silentLogger;
  const server: Server = createServer((req, res) => {
    sandbox.handle(req, res).catch((err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'sandbox: request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'sandbox internal error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const prefix = `/${(options.pathPrefix ?? '/k3cloud/').replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const accounts = sandbox.accounts;
  const first = accountHandle(accounts.first);
  return {
    url: `http://${urlHost}:${port}${prefix}`,
    port,
    store: first.store,
    stats: first.stats,
    sessions: first.sessions,
    credentials: first.credentials,
    ...first.control,
    dropSessions: () => accounts.all().reduce((n, a) => n + a.control.dropSessions(), 0),
    reset: (what?: ResetRequest) => {
      for (const account of accounts.all()) account.control.reset(what);
    },
    account: (acctId?: string) => accountHandle(accounts.require(acctId)),
    accounts: () => accounts.all().map(accountHandle),
    addAccount: (spec: KingdeeSandboxAccountOptions) => accountHandle(accounts.add(spec)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        sandbox.releaseHeld();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
