// Fakes for the write protocol's unit tests (never built into dist/: see scripts/build.js).
import { KingdeeDocument } from '@libs/contracts';
import {
  KingdeeApi,
  KingdeeBillQuery,
  KingdeeError,
  KingdeeOperationResult,
  KingdeeQueryRow,
  KingdeeResponseStatus,
  KingdeeSaveOptions,
  KingdeeSaveResult,
  buildModelOutcomes,
} from '@libs/kingdee-client';
import {
  ClaimState,
  ClaimStore,
  ClaimSummary,
  ClaimTransition,
  HeldClaim,
  PreFence,
  ReleaseMode,
  SettlingClaim,
  claimKey,
} from './claim.store';
import { ConnectionCircuit, KingdeeConnection } from './connection-circuit';

interface Row {
  schemeId: string;
  billKey: string;
  state: ClaimState;
  owner: string | null;
  epoch: number;
  leaseUntil: number;
  writeEpoch: number | null;
  lastWriteAt: number | null;
  settleDeadline: number | null;
  document: KingdeeDocument | null;
  contentHash: string | null;
  kingdeeId: string | null;
  kingdeeNumber: string | null;
  reason: string | null;
  attempts: number;
}

/** An in-memory ClaimStore with the Postgres store's rules, on a clock the test moves. */
export class FakeClaimStore implements ClaimStore {
  readonly rows = new Map<string, Row>();
  now = 1_000_000;
  readonly changes: ClaimTransition[] = [];

  private live(r: Row) {
    return r.leaseUntil > this.now;
  }

  async read(schemeId: string, billKeys: string[]): Promise<Map<string, ClaimSummary>> {
    const out = new Map<string, ClaimSummary>();
    for (const k of billKeys) {
      const r = this.rows.get(`${schemeId}\u0000${k}`);
      if (r)
        out.set(k, {
          billKey: k,
          state: r.state,
          live: this.live(r),
          contentHash: r.contentHash,
          kingdeeId: r.kingdeeId,
          kingdeeNumber: r.kingdeeNumber,
          reason: r.reason,
          hasDocument: r.document !== null,
        });
    }
    return out;
  }

  async claim(
    owner: string,
    leaseMs: number,
    docs: KingdeeDocument[],
    fence?: PreFence,
  ): Promise<HeldClaim[]> {
    const out: HeldClaim[] = [];
    for (const [i, d] of docs.entries()) {
      const key = `${d.schemeId}\u0000${d.billKey}`;
      const r = this.rows.get(key);
      if (r && r.state !== 'free' && r.state !== 'failed') continue;
      const row: Row = r ?? {
        schemeId: d.schemeId,
        billKey: d.billKey,
        state: 'writing',
        owner,
        epoch: 0,
        leaseUntil: 0,
        writeEpoch: null,
        lastWriteAt: null,
        settleDeadline: null,
        document: null,
        contentHash: d.contentHash,
        kingdeeId: null,
        kingdeeNumber: null,
        reason: null,
        attempts: 0,
      };
      Object.assign(row, {
        state: 'writing',
        owner,
        epoch: row.epoch + 1,
        leaseUntil: this.now + leaseMs,
        document: null,
      });
      if (fence && i < fence.count)
        Object.assign(row, {
          lastWriteAt: this.now + fence.horizonMs,
          writeEpoch: row.epoch,
          attempts: row.attempts + 1,
        });
      this.rows.set(key, row);
      out.push({ schemeId: d.schemeId, billKey: d.billKey, epoch: String(row.epoch) });
    }
    return out;
  }

  private held(owner: string, c: HeldClaim): Row | undefined {
    const r = this.rows.get(claimKey(c));
    return r && r.owner === owner && String(r.epoch) === c.epoch ? r : undefined;
  }

  async fence(owner: string, leaseMs: number, claims: HeldClaim[]): Promise<HeldClaim[]> {
    return claims.filter((c) => {
      const r = this.held(owner, c);
      if (!r || r.state !== 'writing' || !this.live(r)) return false;
      Object.assign(r, {
        lastWriteAt: this.now,
        writeEpoch: r.epoch,
        leaseUntil: this.now + leaseMs,
        attempts: r.attempts + 1,
      });
      return true;
    });
  }

  async transition(owner: string, changes: ClaimTransition[], leaseMs = 0): Promise<Set<string>> {
    const done = new Set<string>();
    for (const ch of changes) {
      const r = this.held(owner, ch.claim);
      if (!r) continue;
      this.changes.push(ch);
      const held = ch.state === 'writing' || ch.state === 'settling' || ch.state === 'saved_not_audited';
      if (ch.state === 'settling' && r.state !== 'settling')
        r.settleDeadline = (r.lastWriteAt ?? this.now) + (ch.settleWindowMs ?? 0);
      Object.assign(r, {
        state: ch.state,
        owner: held ? r.owner : null,
        leaseUntil: ch.state === 'writing' ? this.now + leaseMs : held ? r.leaseUntil : 0,
        kingdeeId: ch.kingdeeId ?? r.kingdeeId,
        kingdeeNumber: ch.kingdeeNumber ?? r.kingdeeNumber,
        reason: ch.reason ?? null,
        document: ch.state === 'loaded' ? null : (ch.document ?? r.document),
      });
      done.add(claimKey(ch.claim));
    }
    return done;
  }

  async release(
    owner: string,
    claims: HeldClaim[],
    window: (s: string) => number,
    mode: ReleaseMode = {},
  ): Promise<void> {
    for (const c of claims) {
      const r = this.held(owner, c);
      if (!r || r.state !== 'writing') continue;
      const wrote = r.writeEpoch === r.epoch && !mode.notApplied;
      if (wrote)
        Object.assign(r, { state: 'settling', settleDeadline: (r.lastWriteAt ?? 0) + window(c.schemeId) });
      else if (mode.keepDocument) Object.assign(r, { state: 'settling', settleDeadline: this.now });
      else Object.assign(r, { state: 'free', owner: null, leaseUntil: 0 });
    }
  }

  async renew(owner: string, leaseMs: number): Promise<HeldClaim[]> {
    const out: HeldClaim[] = [];
    for (const r of this.rows.values())
      if (r.owner === owner && ['writing', 'settling', 'saved_not_audited'].includes(r.state)) {
        r.leaseUntil = this.now + leaseMs;
        if (r.state === 'writing')
          out.push({ schemeId: r.schemeId, billKey: r.billKey, epoch: String(r.epoch) });
      }
    return out;
  }

  async takeOver(
    owner: string,
    leaseMs: number,
    schemes: Array<{ schemeId: string; settleWindowMs: number }>,
  ): Promise<HeldClaim[]> {
    const out: HeldClaim[] = [];
    for (const r of this.rows.values()) {
      const s = schemes.find((x) => x.schemeId === r.schemeId);
      if (!s || !['writing', 'settling', 'saved_not_audited'].includes(r.state) || this.live(r)) continue;
      if (r.state === 'writing') {
        r.settleDeadline = r.writeEpoch === r.epoch ? (r.lastWriteAt ?? 0) + s.settleWindowMs : this.now;
        r.state = 'settling';
      }
      Object.assign(r, { owner, epoch: r.epoch + 1, leaseUntil: this.now + leaseMs });
      out.push({ schemeId: r.schemeId, billKey: r.billKey, epoch: String(r.epoch) });
    }
    return out;
  }

  async due(owner: string): Promise<SettlingClaim[]> {
    return [...this.rows.values()]
      .filter(
        (r) =>
          r.owner === owner && (r.state === 'settling' || r.state === 'saved_not_audited') && this.live(r),
      )
      .map((r) => ({
        schemeId: r.schemeId,
        billKey: r.billKey,
        epoch: String(r.epoch),
        state: r.state as SettlingClaim['state'],
        deadlinePassed: r.settleDeadline !== null && this.now >= r.settleDeadline,
        settleDeadline: r.settleDeadline === null ? null : new Date(r.settleDeadline),
        document: r.document,
        kingdeeId: r.kingdeeId,
        kingdeeNumber: r.kingdeeNumber,
        attempts: r.attempts,
        reason: r.reason,
      }));
  }

  async endLeases(owner: string): Promise<number> {
    let n = 0;
    for (const r of this.rows.values())
      if (r.owner === owner) {
        r.leaseUntil = 0;
        n += 1;
      }
    return n;
  }

  async numbersKept(schemeId: string): Promise<boolean> {
    return [...this.rows.values()].some(
      (r) =>
        r.schemeId === schemeId &&
        r.state === 'loaded' &&
        r.kingdeeNumber?.toUpperCase() === r.billKey.toUpperCase(),
    );
  }

  state(schemeId: string, billKey: string): ClaimState | undefined {
    return this.rows.get(`${schemeId}\u0000${billKey}`)?.state;
  }
}

type SaveScript = (
  models: Record<string, unknown>[],
  kingdee: FakeKingdee,
) => KingdeeSaveResult | Promise<KingdeeSaveResult>;

/** An in-memory Kingdee: bills by FBillNo / FDESCRIPTION, BatchSave behaviour scripted per call. */
export class FakeKingdee implements KingdeeApi {
  readonly bills: Array<{ id: string; number: string; status: string; model: Record<string, unknown> }> = [];
  readonly calls: string[] = [];
  /** Next BatchSave behaviours; when empty, saves normally. */
  readonly script: SaveScript[] = [];
  submitFails = 0;
  auditFails = 0;
  private nextId = 1;

  store(model: Record<string, unknown>, status = 'C', number?: string): { id: string; number: string } {
    const id = String(this.nextId++);
    const bill = { id, number: number ?? String(model.FBillNo ?? `CGTL${id}`), status, model };
    this.bills.push(bill);
    return bill;
  }

  /** Saves every model and answers as Kingdee does. */
  saveAll(models: Record<string, unknown>[], status = 'C'): KingdeeSaveResult {
    const entities = models.map((m, i) => ({ ...this.store(m, status), dIndex: i }));
    return saveResult(ok(entities), models.length);
  }

  async batchSave(
    _form: string,
    models: Record<string, unknown>[],
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult> {
    this.calls.push('BatchSave');
    if (options?.signal?.aborted)
      throw new KingdeeError({ kind: 'ambiguous', code: 'KD_ABORTED', message: 'aborted' });
    const next = this.script.shift();
    return next
      ? next(models, this)
      : this.saveAll(models, options?.isAutoSubmitAndAudit === false ? 'A' : 'C');
  }

  async save(
    form: string,
    model: Record<string, unknown>,
    options?: KingdeeSaveOptions,
  ): Promise<KingdeeSaveResult> {
    return this.batchSave(form, [model], options);
  }

  private transition(
    step: 'Submit' | 'Audit',
    ids: string[],
    from: string[],
    to: string,
  ): KingdeeOperationResult {
    this.calls.push(step);
    const fails = step === 'Submit' ? this.submitFails > 0 : this.auditFails > 0;
    if (fails) {
      if (step === 'Submit') this.submitFails -= 1;
      else this.auditFails -= 1;
      return {
        status: failed(ids.map((_, i) => ({ fieldName: null, message: `${step} refused`, dIndex: i }))),
        needReturnData: [],
      };
    }
    for (const b of this.bills) if (ids.includes(b.id) && from.includes(b.status)) b.status = to;
    return { status: ok(ids.map((id, i) => ({ id, number: null, dIndex: i }))), needReturnData: [] };
  }

  async submit(_form: string, t: { ids?: Array<string | number> }): Promise<KingdeeOperationResult> {
    return this.transition('Submit', (t.ids ?? []).map(String), ['A', 'D'], 'B');
  }

  async audit(_form: string, t: { ids?: Array<string | number> }): Promise<KingdeeOperationResult> {
    return this.transition('Audit', (t.ids ?? []).map(String), ['B'], 'C');
  }

  async view(): Promise<never> {
    throw new Error('not used');
  }

  async executeBillQuery(): Promise<unknown[][]> {
    throw new Error('not used');
  }

  async executeBillQueryObjects(query: KingdeeBillQuery): Promise<KingdeeQueryRow[]> {
    this.calls.push('ExecuteBillQuery');
    const filter = String(query.FilterString);
    const field = filter.split(/[= ]/, 1)[0];
    const values = [...filter.matchAll(/'([^']*)'/g)].map((m) => m[1].toUpperCase());
    const keys = (Array.isArray(query.FieldKeys) ? query.FieldKeys : String(query.FieldKeys).split(',')).map(
      (k) => k.trim(),
    );
    if (query.StartRow) return [];
    return this.bills
      .filter((b) =>
        values.includes(
          String(
            field === 'FID' ? b.id : field === 'FBillNo' ? b.number : (b.model[field] ?? ''),
          ).toUpperCase(),
        ),
      )
      .map((b) =>
        Object.fromEntries(
          keys.map((k) => [
            k,
            k === 'FID' ? b.id : k === 'FBillNo' ? b.number : k === 'FDocumentStatus' ? b.status : b.model[k],
          ]),
        ),
      );
  }
}

export function ok(
  entities: Array<{ id: string; number: string | null; dIndex: number | null }>,
): KingdeeResponseStatus {
  return {
    isSuccess: true,
    msgCode: 0,
    errorCode: null,
    errors: [],
    successEntities: entities,
    successMessages: [],
  };
}

export function failed(
  errors: Array<{ fieldName: string | null; message: string; dIndex: number | null }>,
  msgCode = 11,
): KingdeeResponseStatus {
  return { isSuccess: false, msgCode, errorCode: '500', errors, successEntities: [], successMessages: [] };
}

export function saveResult(status: KingdeeResponseStatus, modelCount: number): KingdeeSaveResult {
  return { status, needReturnData: [], outcomes: buildModelOutcomes(status, modelCount) };
}

export function fakeConnection(api: KingdeeApi, id = 'default'): KingdeeConnection {
  return { id, api, circuit: new ConnectionCircuit(id, { threshold: 3, halfOpenAfterMs: 60_000 }) };
}
