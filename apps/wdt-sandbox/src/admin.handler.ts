import { z } from 'zod';
import { formatShanghai, parseShanghai } from '@libs/common';
import { HttpError } from './http-util';
import { KnobValidationError } from './knobs';
import { OrderEditor } from './order-editor';
import { GenerateOptions, OrderGenerator, WdtOrderRecord, defaultSeedRange } from './order-generator';
import {
  SANDBOX_MATERIALS,
  SANDBOX_PROVIDERS,
  SANDBOX_STATUSES,
  SANDBOX_UNKNOWN_CODES,
  SANDBOX_WAREHOUSES,
} from './reference-data';
import {
  AccountConflictError,
  SandboxSeller,
  accountSpecSchema,
  SandboxState,
  UnknownSidError,
} from './sandbox-state';

export interface AdminReply {
  status: number;
  body: unknown;
}

const wallClock = z.string().refine((v) => parseShanghai(v) !== undefined, 'must be "yyyy-MM-dd HH:mm:ss"');

/** Lazily generated sets hold nothing per order: up to 10 million. */
export const MAX_LAZY_ORDERS = 10_000_000;

const seedSchema = z.object({
  count: z.number().int().min(0).max(MAX_LAZY_ORDERS),
  /** Define the orders lazily (generated from (seed, index) when read) instead of storing them. */
  lazy: z.boolean().optional(),
  seed: z.number().int().optional(),
  from: wallClock.optional(),
  to: wallClock.optional(),
  unknownCodeRate: z.number().min(0).max(1).optional(),
  statusWeights: z
    .object({
      '5': z.number().min(0).optional(),
      '50': z.number().min(0).optional(),
      '55': z.number().min(0).optional(),
      '95': z.number().min(0).optional(),
      '110': z.number().min(0).optional(),
    })
    .optional(),
});

const upsertSchema = z.object({
  orders: z.array(z.record(z.string(), z.unknown())).min(1),
  seed: z.number().int().optional(),
  /** Store the objects exactly as given (no completion, no md5 recompute) — for malformed-record tests. */
  raw: z.boolean().optional(),
});

const modifySchema = z.object({
  set: z.record(z.string(), z.unknown()).optional(),
  status: z.union([z.number().int(), z.string()]).optional(),
  consign_time: z.string().optional(),
  modified: wallClock.optional(),
  details_list: z.array(z.record(z.string(), z.unknown())).optional(),
  seed: z.number().int().optional(),
});

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(400, `invalid body: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  return result.data;
}

const intParam = (url: URL, key: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
  const raw = url.searchParams.get(key);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max)
    throw new HttpError(400, `query ${key} must be an integer <= ${max}`);
  return Number(raw);
};

/**
 * JSON admin API under `/admin` (see apps/wdt-sandbox/README.md): accounts; seed, upsert, modify, list,
 * get, delete orders (of the account `?sid=` names, default the first); reset; knobs; call stats and
 * recent requests; reference data.
 */
export class AdminHandler {
  constructor(private readonly state: SandboxState) {}

  handle(method: string, url: URL, body: unknown): AdminReply {
    this.state.stats.admin();
    try {
      return this.route(method, url, body);
    } catch (error) {
      if (error instanceof UnknownSidError) throw new HttpError(404, error.message);
      if (error instanceof AccountConflictError) throw new HttpError(409, error.message);
      throw error;
    }
  }

  private route(method: string, url: URL, body: unknown): AdminReply {
    const path = url.pathname.replace(/\/+$/, '');
    const segments = path.split('/').slice(2).map(decodeURIComponent);
    if (segments.length > 2) throw new HttpError(404, `no admin route ${method} ${path}`);
    const fixed = ['seed', 'reset', 'generate'];
    const route = `${method} /${segments[0] ?? ''}${segments.length > 1 ? `/${fixed.includes(segments[1]) ? segments[1] : ':key'}` : ''}`;
    const sid = url.searchParams.get('sid');
    const seller = this.state.seller(sid);
    const store = seller.store;
    const editor = new OrderEditor(store, () => this.state.clock.now());

    switch (route) {
      case 'GET /health':
        return ok({
          ok: true,
          orders: store.size,
          lazy: store.lazySet ? this.describeLazy(seller) : undefined,
          accounts: this.state.sellers.all().length,
          now: formatShanghai(this.state.clock.now()),
        });
      case 'GET /config': {
        const { appsecret: _a, qimenSecret: _q, ...account } = seller.account;
        return ok({
          ...account,
          gateways: { native: '/openapi2/stockout_order_query_return.php', qimen: '/router/qm' },
          accounts: this.state.sellers.describe(),
        });
      }
      case 'GET /accounts':
        return ok({ accounts: this.state.sellers.describe() });
      case 'POST /accounts': {
        const spec = parse(accountSpecSchema, body);
        const added = this.state.addAccount(spec);
        const described = this.state.sellers.describe().find((a) => a.sid === added.account.sid);
        return { status: 201, body: described };
      }
      case 'GET /reference-data':
        return ok({
          warehouses: SANDBOX_WAREHOUSES,
          providers: SANDBOX_PROVIDERS,
          materials: SANDBOX_MATERIALS,
          unknownCodes: SANDBOX_UNKNOWN_CODES,
          statuses: SANDBOX_STATUSES,
        });
      case 'POST /orders/seed': {
        const request = parse(seedSchema, body);
        return ok(request.lazy ? this.generate(seller, request) : this.seed(seller, request));
      }
      case 'POST /orders/generate':
        return ok(this.generate(seller, parse(seedSchema, body)));
      case 'POST /orders':
        return ok(
          this.upsert(seller, editor, parse(upsertSchema, Array.isArray(body) ? { orders: body } : body)),
        );
      case 'GET /orders': {
        const status = url.searchParams.get('status');
        return ok({
          page_no: intParam(url, 'page_no', 0),
          page_size: intParam(url, 'page_size', 50, 1000),
          ...store.list({
            pageNo: intParam(url, 'page_no', 0),
            pageSize: intParam(url, 'page_size', 50, 1000),
            status: status ? Number(status) : undefined,
            warehouseNo: url.searchParams.get('warehouse_no') || undefined,
          }),
        });
      }
      case 'GET /orders/:key': {
        const order = store.get(segments[1]);
        if (!order) throw new HttpError(404, `no order ${segments[1]}`);
        return ok(order);
      }
      case 'PATCH /orders/:key':
      case 'POST /orders/:key': {
        const existing = store.get(segments[1]);
        if (!existing) throw new HttpError(404, `no order ${segments[1]}`);
        const patch = parse(modifySchema, body);
        const updated = this.withTypeErrors(() =>
          editor.modify(existing, patch as Record<string, unknown>, patch.seed ?? seller.seed),
        );
        store.upsert(updated);
        return ok(updated);
      }
      case 'DELETE /orders/:key':
        if (!store.remove(segments[1])) throw new HttpError(404, `no order ${segments[1]}`);
        return ok({ deleted: segments[1] });
      case 'POST /reset': {
        const keepKnobs =
          typeof body === 'object' && body !== null && (body as { keepKnobs?: unknown }).keepKnobs === true;
        // With ?sid=: that account's orders only. Without: the whole sandbox (accounts stay).
        if (sid) {
          this.state.resetOrders(sid);
          return ok({ reset: true, sid });
        }
        this.state.reset(keepKnobs);
        return ok({ reset: true, keepKnobs });
      }
      case 'GET /knobs':
        return ok(this.state.knobs);
      case 'PUT /knobs':
      case 'PATCH /knobs':
      case 'POST /knobs':
        try {
          return ok(this.state.setKnobs(body));
        } catch (error) {
          if (error instanceof KnobValidationError) throw new HttpError(400, error.message);
          throw error;
        }
      case 'GET /stats':
        return ok({ ...this.state.stats.snapshot(), byAppKey: this.state.appKeyReport() });
      case 'POST /stats/reset':
        this.state.stats.reset();
        this.state.appKeyCalls.reset();
        return ok({ reset: true });
      case 'GET /requests':
        return ok(this.state.stats.recentRequests(intParam(url, 'limit', 50, 200)));
      default:
        throw new HttpError(404, `no admin route ${method} ${path}`);
    }
  }

  /** The order set a seed or generate request asks for (its range checked; the default seed unless given). */
  private orderSet(seller: SandboxSeller, request: z.infer<typeof seedSchema>): GenerateOptions {
    const fallback = defaultSeedRange(this.state.clock.now());
    const fromMs = request.from ? (parseShanghai(request.from) as number) : fallback.fromMs;
    const toMs = request.to ? (parseShanghai(request.to) as number) : fallback.toMs;
    if (toMs < fromMs) throw new HttpError(400, 'invalid body: to is before from');
    return {
      count: request.count,
      seed: request.seed ?? seller.seed,
      fromMs,
      toMs,
      unknownCodeRate: request.unknownCodeRate,
      statusWeights: request.statusWeights,
    };
  }

  /** Defines (replaces) the lazy set: nothing is generated until a query or a read asks for it. */
  private generate(seller: SandboxSeller, request: z.infer<typeof seedSchema>): Record<string, unknown> {
    const spec = this.orderSet(seller, request);
    const weights = request.statusWeights;
    if (weights && Object.keys(weights).length > 0 && !Object.values(weights).some((w) => (w ?? 0) > 0))
      throw new HttpError(400, 'invalid body: statusWeights: at least one weight must be > 0');
    seller.store.defineLazy(spec);
    return { ...this.describeLazy(seller), total: seller.store.size };
  }

  private describeLazy(seller: SandboxSeller): Record<string, unknown> {
    const set = seller.store.lazySet;
    if (!set) return {};
    const d = set.describe();
    return {
      lazy: true,
      count: d.count,
      seed: d.seed,
      from: formatShanghai(set.fromMs),
      to: formatShanghai(set.toMs),
      firstStockoutId: d.firstStockoutId,
      lastStockoutId: d.lastStockoutId,
    };
  }

  private seed(seller: SandboxSeller, request: z.infer<typeof seedSchema>): Record<string, unknown> {
    if (request.count > 200_000)
      throw new HttpError(400, 'invalid body: count: at most 200000 stored orders (use lazy: true for more)');
    const spec = this.orderSet(seller, request);
    const orders = new OrderGenerator(spec.seed).generate(spec, seller.store);
    for (const order of orders) seller.store.upsert(order);
    return {
      inserted: orders.length,
      firstStockoutId: orders[0]?.stockout_id,
      lastStockoutId: orders[orders.length - 1]?.stockout_id,
      from: formatShanghai(spec.fromMs),
      to: formatShanghai(spec.toMs),
      total: seller.store.size,
    };
  }

  private upsert(
    seller: SandboxSeller,
    editor: OrderEditor,
    request: z.infer<typeof upsertSchema>,
  ): Record<string, unknown> {
    const results = request.orders.map((partial, index) => {
      let order: WdtOrderRecord;
      if (request.raw) {
        if (typeof partial.stockout_id !== 'string' || partial.stockout_id === '') {
          throw new HttpError(400, `invalid body: orders[${index}].stockout_id is required with raw: true`);
        }
        order = partial as WdtOrderRecord;
      } else {
        order = this.withTypeErrors(() => editor.build(partial, (request.seed ?? seller.seed) + index));
      }
      const { created } = seller.store.upsert(order);
      return { stockout_id: order.stockout_id, order_no: order.order_no, created };
    });
    return { upserted: results };
  }

  private withTypeErrors<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof TypeError) throw new HttpError(400, `invalid body: ${error.message}`);
      throw error;
    }
  }
}

const ok = (body: unknown): AdminReply => ({ status: 200, body });
