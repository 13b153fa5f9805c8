import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppLogger, type Clock, silentLogger, systemClock } from '@libs/common';
import {
  DEFAULT_SANDBOX_CREDENTIALS,
  DEFAULT_SANDBOX_KNOBS,
  DEFAULT_SANDBOX_SWITCHES,
  type KingdeeSandboxCredentials,
  type KingdeeSandboxKnobs,
  type KingdeeSandboxOptions,
  type KingdeeSandboxSwitches,
  SANDBOX_WRITE_METHODS,
  type SandboxWriteMethod,
} from './sandbox.options';
import {
  createSandboxControl,
  type ResetRequest,
  SandboxAdmin,
  type SandboxControl,
} from './sandbox-admin.controller';
import { SandboxAuth } from './sandbox-auth.handler';
import { SandboxBills } from './sandbox-bill.handler';
import { SandboxManualBills } from './sandbox-manual-bills.service';
import { BodyError, dataParam, type ParsedEnvelope, param, parseEnvelope } from './sandbox-body.util';
import { SandboxFaultLog } from './sandbox-fault-log.service';
import { SandboxSettings } from './sandbox-faults.service';
import { sendJson } from './sandbox-http.util';
import { SandboxQuery } from './sandbox-query.handler';
import { errorReply, lostSessionReply, throttledReply, wrapQueryError } from './sandbox-reply.util';
import { type SandboxSession, SandboxSessions } from './sandbox-session.service';
import { knobsPatchSchema, switchesPatchSchema } from './sandbox-settings.schema';
import { type SandboxOutcome, SandboxStats } from './sandbox-stats.service';
import { SandboxWriteFaults } from './sandbox-write-faults.service';
import { SandboxStore } from './sandbox.store';

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const WRITE_METHODS = new Set<string>(SANDBOX_WRITE_METHODS);
const FORM_METHODS = new Set([...WRITE_METHODS, 'View', 'ExecuteBillQuery']);
const LOGIN_METHODS = new Set(['ValidateUser', 'LoginByAppSecret', 'LoginBySign']);

/** A running sandbox (in-process handle). */
export interface KingdeeSandbox extends SandboxControl {
  /** Base URL for the client's `serverUrl`, e.g. `http://127.0.0.1:40123/k3cloud/`. */
  url: string;
  port: number;
  store: SandboxStore;
  stats: SandboxStats;
  sessions: SandboxSessions;
  credentials: KingdeeSandboxCredentials;
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
  readonly store: SandboxStore;
  readonly settings: SandboxSettings;
  readonly sessions: SandboxSessions;
  readonly stats = new SandboxStats();
  readonly faults: SandboxFaultLog;
  readonly control: SandboxControl;
  private readonly auth: SandboxAuth;
  private readonly bills: SandboxBills;
  private readonly query: SandboxQuery;
  private readonly admin: SandboxAdmin;
  private readonly writes: SandboxWriteFaults;
  private readonly clock: Clock;
  private readonly logger: AppLogger;

  constructor(
    readonly credentials: KingdeeSandboxCredentials,
    options: KingdeeSandboxOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    const knobs: KingdeeSandboxKnobs = {
      ...DEFAULT_SANDBOX_KNOBS,
      ...knobsPatchSchema.parse(options.knobs ?? {}),
    };
    const switches: KingdeeSandboxSwitches = {
      ...DEFAULT_SANDBOX_SWITCHES,
      ...switchesPatchSchema.parse(options.switches ?? {}),
    };
    this.settings = new SandboxSettings(knobs, switches, options.seed ?? 42);
    this.faults = new SandboxFaultLog(this.settings);
    const seed = { ...(options.baseData ?? {}) };
    if (options.materials) seed.materials = options.materials;
    this.store = new SandboxStore(seed);
    this.sessions = new SandboxSessions(this.clock, () => this.settings.switches.sessionIdleMs);
    this.auth = new SandboxAuth(credentials, this.sessions, this.settings, this.clock);
    this.bills = new SandboxBills(this.store, this.settings, this.stats, this.clock);
    this.query = new SandboxQuery(this.store, this.settings);
    this.writes = new SandboxWriteFaults(this.settings, this.faults, this.stats, this.logger);
    this.control = createSandboxControl(this.store, this.settings, this.sessions, this.stats, this.faults);
    const manual = new SandboxManualBills(this.store, this.settings, this.bills);
    this.admin = new SandboxAdmin(this.store, this.sessions, this.stats, this.control, manual);
  }

  /** Ends held replies and cancels pending late commits, so `close()` does not wait for them. */
  releaseHeld(): void {
    this.writes.close();
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
    this.stats.begin(service);
    try {
      if (group === 'AuthService' && LOGIN_METHODS.has(method))
        await this.handleLogin(req, res, method, service);
      else if (group === 'DynamicFormService' && FORM_METHODS.has(method))
        await this.handleForm(req, res, method, service);
      else {
        await readBody(req);
        sendJson(res, 404, { error: `unknown service ${match[1]}` });
      }
    } finally {
      this.stats.end(service);
    }
  }

  private async handleLogin(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
  ): Promise<void> {
    const text = await readBody(req);
    const knobs = this.settings.knobs;
    if (knobs.faultsOnAuth) {
      if (knobs.latencyMs > 0) await delay(knobs.latencyMs);
      if (this.faults.fire('http5xxBefore')) return this.send5xx(res, service);
    }
    let envelope: ParsedEnvelope;
    try {
      envelope = parseEnvelope(text);
    } catch (err) {
      this.stats.record(service, 'bad_request');
      sendJson(res, 200, errorReply(8, err instanceof BodyError ? err.message : '参数错误'));
      return;
    }
    const outcome = this.auth.login(method, envelope);
    this.stats.record(service, outcome.session ? 'ok' : outcome.unbound ? 'bad_request' : 'auth_failed');
    if (outcome.session) this.stats.login();
    sendJson(res, 200, outcome.body, outcome.session ? sessionCookies(outcome.session) : []);
  }

  private send5xx(res: ServerResponse, service: string): void {
    this.stats.record(service, 'http_5xx');
    const status = this.settings.knobs.http5xxStatus;
    const text = `<html><head><title>Runtime Error</title></head><body><h1>Server Error (${status})</h1></body></html>`;
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private async handleForm(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
  ): Promise<void> {
    const text = await readBody(req);
    const isQuery = method === 'ExecuteBillQuery';
    const wrap = (reply: unknown): unknown => (isQuery ? wrapQueryError(reply) : reply);

    // Who is calling: signed request (api_signature) or a session cookie/header.
    const sid =
      cookieValue(req, 'kdservice-sessionid') ??
      headerValue(req, 'kdservice-sessionid') ??
      headerValue(req, 'sid');
    let session = this.sessions.get(sid);
    let issued: string[] = [];
    if (this.auth.isSigned(req.headers)) {
      const check = this.auth.verifySignature(req.headers, req.url ?? '/');
      if (!check.ok) {
        this.stats.record(service, 'auth_failed');
        sendJson(res, 200, wrap(errorReply(1, check.message)));
        return;
      }
      if (!session || session.username !== check.username) {
        session = this.sessions.create(check.username);
        issued = sessionCookies(session);
      }
    }
    if (!session) {
      this.stats.record(service, 'lost_session');
      sendJson(res, 200, wrap(lostSessionReply()));
      return;
    }
    const current = session;
    const run = (): Promise<void> => this.runForm(req, res, method, service, text, current, issued, wrap);
    if (this.settings.switches.serialisePerSession) await this.sessions.serialise(current, run);
    else await run();
  }

  private async runForm(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    service: string,
    text: string,
    session: SandboxSession,
    cookies: string[],
    wrap: (reply: unknown) => unknown,
  ): Promise<void> {
    this.stats.enterSession(session.id);
    try {
      const knobs = this.settings.knobs;
      const lost = (): void => {
        this.stats.record(service, 'lost_session');
        sendJson(res, 200, wrap(lostSessionReply()));
      };
      // Dropped while this request waited for the session (a drop or the call limit just before it).
      if (!this.sessions.isLive(session.id)) return lost();
      if (knobs.sessionCallLimit > 0 && session.calls >= knobs.sessionCallLimit) {
        this.sessions.drop(session.id);
        this.faults.count('sessionCallLimit');
        return lost();
      }
      session.calls += 1;
      if (knobs.latencyMs > 0) await delay(knobs.latencyMs);
      if (this.faults.fire('http5xxBefore')) return this.send5xx(res, service);
      if (this.faults.fire('sessionDrop')) {
        this.sessions.drop(session.id);
        return lost();
      }
      if (this.faults.fire('throttled')) {
        this.stats.record(service, 'throttled');
        sendJson(res, 200, wrap(throttledReply()));
        return;
      }
      if (WRITE_METHODS.has(method)) {
        // Envelope errors surface inside `apply`/`refuse`, where the write faults see them.
        const envelope = (): ParsedEnvelope => parseEnvelope(text);
        await this.writes.run({
          req,
          res,
          method: method as SandboxWriteMethod,
          service,
          cookies,
          apply: (options) => this.dispatch(method, envelope(), options),
          refuse: () => this.refuse(method, envelope()),
        });
        return;
      }
      let reply: unknown;
      let outcome: SandboxOutcome;
      try {
        reply = this.dispatch(method, parseEnvelope(text));
        outcome = this.isFailure(reply) ? 'business_error' : 'ok';
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        reply = wrap(errorReply(8, err.message));
        outcome = 'bad_request';
      }
      this.stats.record(service, outcome);
      sendJson(res, 200, reply, cookies);
    } finally {
      this.stats.leaveSession(session.id);
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
    method: string,
    envelope: ParsedEnvelope,
    options: { autoAuditFails?: boolean } = {},
  ): unknown {
    if (method === 'ExecuteBillQuery') return this.query.execute(dataParam(param(envelope, 0, 'data')));
    const formId = param(envelope, 0, 'formid', 'formId');
    const data = dataParam(param(envelope, 1, 'data'));
    switch (method) {
      case 'Save':
        return this.bills.save(formId, data, false, options);
      case 'BatchSave':
        return this.bills.save(formId, data, true, options);
      case 'View':
        return this.bills.view(formId, data);
      case 'Submit':
      case 'Audit':
      case 'UnAudit':
      case 'Delete':
        return this.bills.transition(method, formId, data);
      default:
        throw new BodyError(`不支持的操作 ${method}`);
    }
  }

  /** The refusal of a Submit/Audit (fault `submitAuditFailure`). */
  private refuse(method: string, envelope: ParsedEnvelope): unknown {
    if (method !== 'Submit' && method !== 'Audit') throw new Error(`cannot refuse ${method}`);
    return this.bills.refuseTransition(
      method,
      param(envelope, 0, 'formid', 'formId'),
      dataParam(param(envelope, 1, 'data')),
    );
  }
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
  return {
    url: `http://${urlHost}:${port}${prefix}`,
    port,
    store: sandbox.store,
    stats: sandbox.stats,
    sessions: sandbox.sessions,
    credentials,
    ...sandbox.control,
    reset: (what?: ResetRequest) => sandbox.control.reset(what),
    close: () =>
      new Promise<void>((resolve, reject) => {
        sandbox.releaseHeld();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
