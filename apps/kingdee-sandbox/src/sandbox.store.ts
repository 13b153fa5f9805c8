import {
  KINGDEE_SANDBOX_MATERIALS,
  KINGDEE_SANDBOX_ORGS,
  KINGDEE_SANDBOX_STOCKS,
  KINGDEE_SANDBOX_SUPPLIERS,
} from './base-data.constants';
import {
  BASE_DATA_KINDS,
  type BaseDataItemInput,
  type BaseDataKind,
  type BaseDataSeed,
} from './sandbox.options';

export interface BaseDataItem {
  id: number;
  number: string;
  name: string;
  /** false: forbidden (FForbidStatus B). */
  enabled: boolean;
  /** false: not audited (FDocumentStatus A). */
  audited: boolean;
  /** Use organisations it is allocated to; null = every organisation. */
  useOrgs: string[] | null;
}

export type DocumentStatus = 'A' | 'B' | 'C' | 'D' | 'Z';

/** A resolved base-data reference as stored on a bill. */
export interface BaseDataRef {
  kind: BaseDataKind | null;
  id: number;
  number: string;
}

export interface SandboxBill {
  formId: string;
  fid: number;
  billNo: string;
  /** FBillNo as the request supplied it (differs from billNo under the `erp` numbering rule). */
  suppliedBillNo: string | null;
  documentStatus: DocumentStatus;
  /** Header fields, original keys; base-data fields hold {@link BaseDataRef}s; FDate normalised. */
  header: Record<string, unknown>;
  /** FPURMRBENTRY lines, each with FEntryID. */
  entries: Array<Record<string, unknown>>;
  createDate: string;
  modifyDate: string;
  approveDate: string | null;
}

export function isBaseDataRef(v: unknown): v is BaseDataRef {
  return typeof v === 'object' && v !== null && 'number' in v && 'id' in v && 'kind' in v;
}

const DEFAULT_SEED: Required<BaseDataSeed> = {
  orgs: [...KINGDEE_SANDBOX_ORGS],
  stocks: [...KINGDEE_SANDBOX_STOCKS],
  suppliers: [...KINGDEE_SANDBOX_SUPPLIERS],
  materials: [...KINGDEE_SANDBOX_MATERIALS],
};

const ID_BASE: Record<BaseDataKind, number> = {
  orgs: 1,
  stocks: 100_001,
  suppliers: 200_001,
  materials: 300_001,
};

/** Base data and saved bills, in memory. Number lookups are case-insensitive (SQL Server CI collation). */
export class SandboxStore {
  private readonly baseData: Record<BaseDataKind, Map<string, BaseDataItem>> = {
    orgs: new Map(),
    stocks: new Map(),
    suppliers: new Map(),
    materials: new Map(),
  };
  private readonly nextBaseId: Record<BaseDataKind, number> = { ...ID_BASE };
  private readonly bills = new Map<number, SandboxBill>();
  /** FIDs by form and upper-cased number: number look-ups stay O(1) with 100k bills (benchmarks). */
  private readonly byNumber = new Map<string, Set<number>>();
  private nextFid = 100_001;
  private nextEntryId = 200_001;
  private nextSerial = 1;
  private readonly startupSeed: Required<BaseDataSeed>;

  constructor(seed: BaseDataSeed = {}) {
    this.startupSeed = { ...DEFAULT_SEED, ...seed } as Required<BaseDataSeed>;
    this.resetBaseData();
  }

  // ---- base data ------------------------------------------------------------------------------

  resetBaseData(): void {
    for (const kind of BASE_DATA_KINDS) {
      this.baseData[kind].clear();
      this.nextBaseId[kind] = ID_BASE[kind];
    }
    this.seedBaseData(this.startupSeed, 'merge');
  }

  seedBaseData(seed: BaseDataSeed, mode: 'merge' | 'replace' = 'merge'): void {
    for (const kind of BASE_DATA_KINDS) {
      const items = seed[kind];
      if (!items) continue;
      if (mode === 'replace') this.baseData[kind].clear();
      for (const raw of items) {
        const input: BaseDataItemInput = typeof raw === 'string' ? { number: raw } : raw;
        const key = input.number.toUpperCase();
        const existing = this.baseData[kind].get(key);
        const id = existing?.id ?? this.nextBaseId[kind]++;
        this.baseData[kind].set(key, {
          id,
          number: input.number,
          name: input.name ?? existing?.name ?? `${kind.slice(0, -1)} ${input.number}`,
          enabled: input.enabled ?? true,
          audited: input.audited ?? true,
          useOrgs: input.useOrgs ?? null,
        });
      }
    }
  }

  findBaseData(kind: BaseDataKind, number: string): BaseDataItem | undefined {
    return this.baseData[kind].get(number.toUpperCase());
  }

  /** Changes one item; undefined when there is no such code. */
  patchBaseData(
    kind: BaseDataKind,
    number: string,
    patch: { name?: string; enabled?: boolean; audited?: boolean; useOrgs?: string[] | null },
  ): BaseDataItem | undefined {
    const item = this.findBaseData(kind, number);
    if (!item) return undefined;
    if (patch.name !== undefined) item.name = patch.name;
    if (patch.enabled !== undefined) item.enabled = patch.enabled;
    if (patch.audited !== undefined) item.audited = patch.audited;
    if (patch.useOrgs !== undefined) item.useOrgs = patch.useOrgs;
    return item;
  }

  /** Whether a bill of `org` (null: not known) can use the item: enabled, audited and allocated there. */
  usable(item: BaseDataItem, kind: BaseDataKind, org: string | null): boolean {
    if (!item.enabled || !item.audited) return false;
    if (kind === 'orgs' || org === null || item.useOrgs === null) return true;
    return item.useOrgs.some((o) => o.toUpperCase() === org.toUpperCase());
  }

  listBaseData(): Record<BaseDataKind, BaseDataItem[]> {
    const out = {} as Record<BaseDataKind, BaseDataItem[]>;
    for (const kind of BASE_DATA_KINDS) out[kind] = [...this.baseData[kind].values()];
    return out;
  }

  // ---- bills ------------------------------------------------------------------------------------

  allocateFid(): number {
    return this.nextFid++;
  }

  allocateEntryId(): number {
    return this.nextEntryId++;
  }

  /** The ERP's own bill number: prefix + zero-padded serial. */
  allocateNumber(prefix: string, digits: number): string {
    return `${prefix}${String(this.nextSerial++).padStart(digits, '0')}`;
  }

  put(bill: SandboxBill): void {
    const previous = this.bills.get(bill.fid);
    if (previous) this.unindex(previous);
    this.bills.set(bill.fid, bill);
    const key = numberKey(bill.formId, bill.billNo);
    let fids = this.byNumber.get(key);
    if (!fids) this.byNumber.set(key, (fids = new Set()));
    fids.add(bill.fid);
  }

  get(fid: number): SandboxBill | undefined {
    return this.bills.get(fid);
  }

  delete(fid: number): boolean {
    const bill = this.bills.get(fid);
    if (bill) this.unindex(bill);
    return this.bills.delete(fid);
  }

  findByNumber(formId: string, billNo: string): SandboxBill[] {
    const key = billNo.toUpperCase();
    // Candidates from the index, checked against the bill itself (a handler may edit a bill in place).
    const indexed = [...(this.byNumber.get(numberKey(formId, billNo)) ?? [])]
      .map((fid) => this.bills.get(fid))
      .filter(
        (b): b is SandboxBill => b !== undefined && b.formId === formId && b.billNo.toUpperCase() === key,
      );
    return indexed.sort((a, b) => a.fid - b.fid);
  }

  private unindex(bill: SandboxBill): void {
    const key = numberKey(bill.formId, bill.billNo);
    const fids = this.byNumber.get(key);
    fids?.delete(bill.fid);
    if (fids?.size === 0) this.byNumber.delete(key);
  }

  all(): SandboxBill[] {
    return [...this.bills.values()];
  }

  count(filter: { billNo?: string; status?: string } = {}): number {
    return this.filter(filter).length;
  }

  list(filter: { billNo?: string; status?: string; page?: number; pageSize?: number } = {}): {
    total: number;
    page: number;
    pageSize: number;
    items: SandboxBill[];
  } {
    const all = this.filter(filter);
    const pageSize = Math.max(1, Math.min(1000, filter.pageSize ?? 50));
    const page = Math.max(1, filter.page ?? 1);
    return { total: all.length, page, pageSize, items: all.slice((page - 1) * pageSize, page * pageSize) };
  }

  private filter(filter: { billNo?: string; status?: string }): SandboxBill[] {
    return [...this.bills.values()]
      .filter((b) => !filter.billNo || b.billNo.toUpperCase() === filter.billNo.toUpperCase())
      .filter((b) => !filter.status || b.documentStatus === filter.status.toUpperCase())
      .sort((a, b) => a.fid - b.fid);
  }

  clearBills(): void {
    this.bills.clear();
    this.byNumber.clear();
    this.nextFid = 100_001;
    this.nextEntryId = 200_001;
    this.nextSerial = 1;
  }
}

function numberKey(formId: string, billNo: string): string {
  return `${formId}\u0000${billNo.toUpperCase()}`;
}
