import { ZodError } from 'zod';
import type { KingdeeSandboxKnobs, KingdeeSandboxSwitches } from './sandbox.options';
import { renderBill } from './sandbox-bill.handler';
import type { SandboxFaultLog, SandboxFaultsSnapshot } from './sandbox-fault-log.service';
import type { SandboxSettings } from './sandbox-faults.service';
import { AccountConflictError, UnknownAccountError } from './sandbox-accounts.errors';
import type { SandboxAccount, SandboxAccounts } from './sandbox-accounts.service';
import { ManualBillError, type ManualBillTarget } from './sandbox-manual-bills.service';
import type { SandboxSessions } from './sandbox-session.service';
import {
  accountSpecSchema,
  baseDataPatchSchema,
  baseDataSeedSchema,
  resetSchema,
} from './sandbox-settings.schema';
import { BASE_DATA_KINDS, type BaseDataKind } from './sandbox.options';
import type { SandboxStats } from './sandbox-stats.service';
import type { SandboxBill, SandboxStore } from './sandbox.store';

export interface AdminReply {
  status: number;
  body: unknown;
}

export interface ResetRequest {
  bills?: boolean;
  sessions?: boolean;
  stats?: boolean;
  knobs?: boolean;
  switches?: boolean;
  baseData?: boolean;
}

/** What `/admin/...` and the in-process handle can do. */
export interface SandboxControl {
  knobs(): KingdeeSandboxKnobs;
  switches(): KingdeeSandboxSwitches;
  setKnobs(patch: Partial<KingdeeSandboxKnobs>): KingdeeSandboxKnobs;
  setSwitches(patch: Partial<KingdeeSandboxSwitches>): KingdeeSandboxSwitches;
  dropSessions(): number;
  /** Faults injected since the last stats reset (`GET /admin/faults`). */
  faults(): SandboxFaultsSnapshot;
  reset(what?: ResetRequest): void;
}

export function createSandboxControl(
  store: SandboxStore,
  settings: SandboxSettings,
  sessions: SandboxSessions,
  stats: SandboxStats,
  faults: SandboxFaultLog,
): SandboxControl {
  return {
    knobs: () => structuredClone(settings.knobs),
    switches: () => structuredClone(settings.switches),
    setKnobs: (patch) => structuredClone(settings.patchKnobs(patch)),
    setSwitches: (patch) => structuredClone(settings.patchSwitches(patch)),
    dropSessions: () => sessions.dropAll(),
    faults: () => faults.snapshot(),
    reset: (what = {}) => {
      // Default: everything but base data (which goes back to the startup set only when asked).
      const all = Object.keys(what).length === 0;
      if (all || what.bills) store.clearBills();
      if (all || what.sessions) sessions.dropAll();
      if (all || what.stats) {
        stats.reset();
        faults.reset();
      }
      if (all || what.knobs) settings.resetKnobs();
      if (all || what.switches) settings.resetSwitches();
      if (what.baseData) store.resetBaseData();
    },
  };
}

function intParam(v: string | null, fallback: number): number {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * JSON admin API under `/admin` (see README.md). Everything acts on the account set `?acctId=` names
 * (absent: the first), except `POST /admin/reset` and `POST /admin/sessions/drop`, which without
 * `?acctId=` act on every account, and `/admin/accounts`.
 */
export class SandboxAdmin {
  constructor(private readonly accounts: SandboxAccounts) {}

  handle(method: string, path: string, query: URLSearchParams, body: unknown): AdminReply {
    try {
      return this.route(method, path.replace(/\/+$/, ''), query, body);
    } catch (err) {
      if (err instanceof ZodError)
        return { status: 400, body: { error: 'invalid request', issues: err.issues } };
      if (err instanceof SyntaxError) return { status: 400, body: { error: 'invalid JSON body' } };
      if (err instanceof ManualBillError)
        return { status: err.status, body: { error: err.message, ...(err.details ?? {}) } };
      if (err instanceof UnknownAccountError) return { status: 404, body: { error: err.message } };
      if (err instanceof AccountConflictError) return { status: 409, body: { error: err.message } };
      throw err;
    }
  }

  private route(method: string, path: string, query: URLSearchParams, body: unknown): AdminReply {
    const ok = (b: unknown): AdminReply => ({ status: 200, body: b });
    const get = method === 'GET';
    const write = method === 'POST' || method === 'PUT' || method === 'PATCH';
    const named = query.get('acctId');
    const account: SandboxAccount = this.accounts.require(named);
    const { store, sessions, stats, control } = account;
    /** The accounts a reset or a session drop acts on: the one named, or every one. */
    const scope = (): readonly SandboxAccount[] => (named ? [account] : this.accounts.all());
    if (get && path === '/admin/health') return ok({ ok: true });
    if (path === '/admin/accounts') {
      if (get) return ok({ accounts: this.accounts.all().map((a) => a.describe()) });
      if (method === 'POST') {
        const added = this.accounts.add(accountSpecSchema.parse(body ?? {}));
        return { status: 201, body: added.describe() };
      }
    }
    if (path === '/admin/base-data') {
      if (get) return ok(store.listBaseData());
      if (write) {
        const seed = baseDataSeedSchema.parse(body ?? {});
        const { mode, ...kinds } = seed;
        store.seedBaseData(kinds, mode ?? 'merge');
        return ok(store.listBaseData());
      }
    }
    const item = /^\/admin\/base-data\/([a-z]+)\/(.+)$/.exec(path);
    if (item && (write || get)) {
      const kind = item[1] as BaseDataKind;
      if (!BASE_DATA_KINDS.includes(kind))
        return { status: 404, body: { error: `no base-data kind ${item[1]}` } };
      const number = decodeURIComponent(item[2]);
      const found = get
        ? store.findBaseData(kind, number)
        : store.patchBaseData(kind, number, baseDataPatchSchema.parse(body ?? {}));
      return found ? ok(found) : { status: 404, body: { error: `no ${kind} ${number}` } };
    }
    if (get && path === '/admin/bills/count') {
      return ok({
        count: store.count({
          billNo: query.get('billNo') ?? undefined,
          status: query.get('status') ?? undefined,
        }),
      });
    }
    if (get && path === '/admin/bills') {
      const page = store.list({
        billNo: query.get('billNo') ?? undefined,
        status: query.get('status') ?? undefined,
        page: intParam(query.get('page'), 1),
        pageSize: intParam(query.get('pageSize'), 50),
      });
      return ok({ ...page, items: page.items.map(renderBill) });
    }
    const manual = this.manualRoute(account, method, path, body);
    if (manual) return manual;
    const byNumber = /^\/admin\/bills\/by-number\/(.+)$/.exec(path);
    if (get && byNumber) {
      const bills = store.findByNumber('PUR_MRB', decodeURIComponent(byNumber[1]));
      return ok({ items: bills.map(renderBill) });
    }
    const byId = /^\/admin\/bills\/(\d+)$/.exec(path);
    if (get && byId) {
      const bill = store.get(Number(byId[1]));
      return bill
        ? ok({ ...renderBill(bill), suppliedBillNo: bill.suppliedBillNo })
        : { status: 404, body: { error: 'bill not found' } };
    }
    if (path === '/admin/knobs') {
      if (get) return ok(control.knobs());
      if (write) return ok(control.setKnobs((body ?? {}) as never));
    }
    if (path === '/admin/switches') {
      if (get) return ok(control.switches());
      if (write) return ok(control.setSwitches((body ?? {}) as never));
    }
    if (get && path === '/admin/stats') return ok(stats.snapshot());
    if (write && path === '/admin/stats/reset') {
      control.reset({ stats: true });
      return ok(stats.snapshot());
    }
    if (get && path === '/admin/faults') return ok(control.faults());
    if (get && path === '/admin/sessions') return ok({ count: sessions.count() });
    if (write && path === '/admin/sessions/drop')
      return ok({ dropped: scope().reduce((n, a) => n + a.control.dropSessions(), 0) });
    if (write && path === '/admin/reset') {
      const what = resetSchema.parse(body ?? {});
      for (const a of scope()) a.control.reset(what);
      return ok({ ok: true });
    }
    return { status: 404, body: { error: `no admin route ${method} ${path}` } };
  }

  /** A person's actions on bills (POST /admin/bills, DELETE, unaudit, line quantity); null: not one. */
  private manualRoute(
    account: SandboxAccount,
    method: string,
    path: string,
    body: unknown,
  ): AdminReply | null {
    const manual = account.manual;
    const shown = (bill: SandboxBill): Record<string, unknown> => ({
      ...renderBill(bill),
      suppliedBillNo: bill.suppliedBillNo,
    });
    if (method === 'POST' && path === '/admin/bills')
      return { status: 201, body: shown(manual.create(body)) };
    if (method === 'POST' && path === '/admin/bills/import')
      return { status: 201, body: manual.importMany(body) };
    const m = /^\/admin\/bills\/(?:(\d+)|by-number\/([^/]+))(\/unaudit|\/entries\/(\d+))?$/.exec(path);
    if (!m) return null;
    const target: ManualBillTarget = m[1] ? { fid: Number(m[1]) } : { billNo: decodeURIComponent(m[2]) };
    if (method === 'DELETE' && !m[3]) return { status: 200, body: { deleted: shown(manual.delete(target)) } };
    if (method === 'POST' && m[3] === '/unaudit')
      return { status: 200, body: shown(manual.unaudit(target, body)) };
    if (method === 'PATCH' && m[4] !== undefined)
      return { status: 200, body: shown(manual.editQuantity(target, Number(m[4]), body)) };
    return null;
  }
}
