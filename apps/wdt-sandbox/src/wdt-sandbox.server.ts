import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppLogger, Clock, formatShanghai, silentLogger, systemClock } from '@libs/common';
import { AdminHandler } from './admin.handler';
import { SandboxGatewayName } from './call-stats';
import { GatewayResult } from './gateway-result';
import { HttpError, parseJsonBody, readBody, readFormParams, send, sendJson, sleep } from './http-util';
import { DEFAULT_KNOBS, SandboxKnobs, mergeKnobs } from './knobs';
import { RawReply, htmlErrorPage, malformPage } from './malformed-page';
import { NATIVE_PATH, handleNativeCall } from './native-gateway.handler';
import { OrderStore } from './order-store';
import { QIMEN_PATH, handleQimenCall } from './qimen-gateway.handler';
import {
  DEFAULT_SANDBOX_ACCOUNT,
  SandboxAccount,
  SandboxSeller,
  SandboxState,
  WdtSandboxAccountSpec,
} from './sandbox-state';

/**
 * The sandbox's options. The account fields (`sid`, `appkey`, …) and the seeding fields define the first
 * (default) account; `accounts` adds more, each with its own sid, keys and orders.
 */
export interface WdtSandboxOptions extends Partial<SandboxAccount> {
  /** More accounts after the first (validated like `POST /admin/accounts`). */
  accounts?: WdtSandboxAccountSpec[];
  /** 0 picks a free port (tests). Default 18081. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Orders generated at start (default 0). */
  seedCount?: number;
  /** Define the `seedCount` orders lazily (generated on demand, see `OrderStore.defineLazy`). */
  seedLazy?: boolean;
  /** Generator seed (default 1). */
  seed?: number;
  /** Range of generated times (epoch ms); default the 7 days before start. */
  seedFromMs?: number;
  seedToMs?: number;
  knobs?: Partial<SandboxKnobs>;
  clock?: Clock;
  logger?: AppLogger;
}

export interface WdtSandbox {
  /** Base URL, e.g. `http://127.0.0.1:40123` — the native base and the Qimen router base at once. */
  url: string;
  port: number;
  /** The first account's orders. */
  store: OrderStore;
  state: SandboxState;
  /** The first account (read live: changing a secret here changes what the gateways accept). */
  account: SandboxAccount;
  /** Every account with its orders, the first one first. */
  sellers(): readonly SandboxSeller[];
  /** The account of `sid` (absent: the first); throws `UnknownSidError`. */
  seller(sid?: string): SandboxSeller;
  /** Adds an account (as `POST /admin/accounts`); throws on a bad spec or a conflict. */
  addAccount(spec: WdtSandboxAccountSpec): SandboxSeller;
  /** Partial knob update (validated). */
  setKnobs(patch: Partial<SandboxKnobs>): SandboxKnobs;
  close(): Promise<void>;
}

/** Starts the sandbox HTTP server (native gateway, Qimen router, admin API) and resolves once listening. */
export async function startWdtSandbox(options: WdtSandboxOptions = {}): Promise<WdtSandbox> {
  const account: SandboxAccount = {
    sid: options.sid ?? DEFAULT_SANDBOX_ACCOUNT.sid,
    appkey: options.appkey ?? DEFAULT_SANDBOX_ACCOUNT.appkey,
    appsecret: options.appsecret ?? DEFAULT_SANDBOX_ACCOUNT.appsecret,
    qimenAppKey: options.qimenAppKey ?? DEFAULT_SANDBOX_ACCOUNT.qimenAppKey,
    qimenSecret: options.qimenSecret ?? DEFAULT_SANDBOX_ACCOUNT.qimenSecret,
    qimenTargetAppKey: options.qimenTargetAppKey ?? DEFAULT_SANDBOX_ACCOUNT.qimenTargetAppKey,
  };
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const knobs = mergeKnobs({ ...DEFAULT_KNOBS }, options.knobs ?? {});
  const seed = options.seed ?? 1;
  const state = new SandboxState(account, clock, knobs, seed);
  const admin = new AdminHandler(state);
  state.seedOrders(state.sellers.first, options);
  for (const spec of options.accounts ?? []) state.addAccount(spec);

  const held = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status === 500) logger.error({ err: message }, 'wdt-sandbox: unexpected error');
      sendJson(res, status, { error: message });
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const method = req.method ?? 'GET';
    if (url.pathname === NATIVE_PATH || url.pathname === QIMEN_PATH) {
      if (method !== 'POST') throw new HttpError(405, 'POST only');
      const gateway: SandboxGatewayName = url.pathname === NATIVE_PATH ? 'native' : 'qimen';
      await gatewayCall(gateway, url, req, res);
      return;
    }
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) {
      const body = method === 'GET' || method === 'DELETE' ? {} : parseJsonBody(await readBody(req));
      const reply = admin.handle(method, url, body);
      sendJson(res, reply.status, reply.body);
      return;
    }
    throw new HttpError(404, `no route ${method} ${url.pathname}`);
  }

  async function gatewayCall(
    gateway: SandboxGatewayName,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    state.stats.call(gateway);
    const params = readFormParams(url, await readBody(req));
    // Counted on arrival, whatever happens next: the client made the call on that app key.
    state.noteAppKeyCall(gateway, gateway === 'native' ? params.appkey : params.app_key);
    if (params.sid && state.sellers.bySid(params.sid)) state.stats.sidCall(params.sid);
    const remember = (outcome: string) =>
      state.stats.remember({ gateway, at: formatShanghai(clock.now()), params, outcome });

    if (state.knobs.latencyMs > 0) await sleep(state.knobs.latencyMs);
    const fault = state.faults.beforeCall(state.consume);
    if (fault.type === 'http_5xx') {
      state.stats.fault('http_5xx');
      remember(`fault:http_${fault.status}`);
      reply(res, htmlErrorPage(fault.status));
      return;
    }
    if (fault.type === 'timeout') {
      state.stats.fault('timeout');
      remember('fault:timeout');
      held.add(res);
      res.on('close', () => held.delete(res));
      const holdMs = state.knobs.timeoutHoldMs;
      if (holdMs > 0) setTimeout(() => res.socket?.destroy(), holdMs).unref();
      return;
    }

    const result: GatewayResult =
      gateway === 'native' ? handleNativeCall(params, state) : handleQimenCall(params, state);
    if (result.outcome === 'rejected') {
      state.stats.rejected(gateway, result.reason);
      remember(`rejected:${result.reason}`);
      logger.info({ gateway, reason: result.reason }, 'wdt-sandbox: call rejected');
      sendJson(res, 200, result.body);
      return;
    }
    state.stats.accepted(gateway, params.sid);
    const malformed = state.faults.malformation(state.consume);
    if (malformed) {
      state.stats.fault('malformed');
      remember(`fault:malformed:${malformed}`);
      reply(res, malformPage(malformed, gateway, result.body));
      return;
    }
    const corrupted = state.corruptor.apply(gateway, result.body, state.knobs, state.consume);
    if (corrupted) {
      state.stats.fault('corrupted');
      remember(`fault:corrupted:${corrupted.kinds.join('+')}`);
      reply(res, corrupted.reply);
      return;
    }
    remember(`ok:${result.returned}`);
    sendJson(res, 200, result.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 18081, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    { url, accounts: state.sellers.all().length, orders: state.store.size },
    'wdt-sandbox: listening',
  );

  return {
    url,
    port: address.port,
    store: state.store,
    state,
    account,
    sellers: () => state.sellers.all(),
    seller: (sid) => state.seller(sid),
    addAccount: (spec) => state.addAccount(spec),
    setKnobs: (patch) => state.setKnobs(patch),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of held) res.socket?.destroy();
        held.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, raw: RawReply): void {
  send(res, raw.status, raw.contentType, raw.body);
}
