import { formatShanghai, parseShanghai } from '@libs/common';
import {
  DEFAULT_REQUIRED_ENTRY,
  DEFAULT_REQUIRED_HEADER,
  ENTRY_BASE_DATA,
  HEADER_BASE_DATA,
  labelOf,
  OWNER_FIELDS,
  PUR_MRB_ENTRY_KEY,
  PUR_MRB_FIN_KEY,
} from './pur-mrb.form';
import type { BaseDataKind, KingdeeSandboxSwitches } from './sandbox.options';
import { type BaseDataRef, isBaseDataRef, type SandboxBill, type SandboxStore } from './sandbox.store';

/** One validation failure of a model (DIndex is added by the handler). */
export interface ModelError {
  fieldName: string | null;
  message: string;
  msgCode: number;
}

export interface PreparedModel {
  /** 0 = create. */
  fid: number;
  suppliedBillNo: string | null;
  header: Record<string, unknown>;
  entries: Array<Record<string, unknown>>;
}

export interface ValidationContext {
  store: SandboxStore;
  switches: KingdeeSandboxSwitches;
  verifyBaseData: boolean;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive key lookup (Kingdee field keys are case-insensitive). */
export function findKey(obj: Obj, key: string): string | undefined {
  if (key in obj) return key;
  const upper = key.toUpperCase();
  return Object.keys(obj).find((k) => k.toUpperCase() === upper);
}

export function getField(obj: Obj, key: string): unknown {
  const k = findKey(obj, key);
  return k === undefined ? undefined : obj[k];
}

function setField(obj: Obj, key: string, value: unknown): void {
  const existing = findKey(obj, key);
  if (existing !== undefined && existing !== key) delete obj[existing];
  obj[key] = value;
}

/** `{"FNumber":"X"}` (or FNUMBER): the number; null when empty; undefined when not a reference object. */
function referenceNumber(v: unknown): string | null | undefined {
  if (v === null || v === undefined || v === '') return null;
  if (!isObject(v)) return undefined;
  const n = getField(v, 'FNumber');
  if (n === null || n === undefined || n === '') return null;
  return typeof n === 'string' || typeof n === 'number' ? String(n).trim() : undefined;
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

/** `yyyy-MM-dd[ HH:mm[:ss]]` or with `T` → `yyyy-MM-ddTHH:mm:ss` (how queries return dates). */
export function normaliseDate(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = parseShanghai(v.replace('T', ' '));
  return ms === undefined ? undefined : formatShanghai(ms).replace(' ', 'T');
}

function ownerKind(ownerType: unknown): BaseDataKind {
  return typeof ownerType === 'string' && ownerType.toUpperCase() === 'BD_SUPPLIER' ? 'suppliers' : 'orgs';
}

class ModelValidator {
  readonly errors: ModelError[] = [];
  /** Fields already reported (so an unknown reference is not also reported as missing). */
  private readonly flagged = new Set<string>();

  /**
   * `orgs`: the bill's organisations (numbers as sent): suppliers must be allocated to the purchase
   * organisation (else the stock organisation), materials and stocks to the stock organisation.
   */
  constructor(
    private readonly ctx: ValidationContext,
    private readonly orgs: { purchase: string | null; stock: string | null } = {
      purchase: null,
      stock: null,
    },
  ) {}

  private useOrg(kind: BaseDataKind): string | null {
    if (kind === 'orgs') return null;
    return kind === 'suppliers' ? (this.orgs.purchase ?? this.orgs.stock) : this.orgs.stock;
  }

  /**
   * Resolves a base-data field; a code that is unknown, forbidden, not audited or not allocated to the
   * bill's organisation → error (verify on) or dropped to null (verify off), as Kingdee does.
   */
  resolve(kind: BaseDataKind, key: string, value: unknown, row: number | null): BaseDataRef | null {
    if (isBaseDataRef(value)) return value;
    const number = referenceNumber(value);
    if (number === null) return null;
    const text = number ?? (typeof value === 'string' ? value : JSON.stringify(value));
    const item = number === undefined ? undefined : this.ctx.store.findBaseData(kind, number);
    if (item && this.ctx.store.usable(item, kind, this.useOrg(kind)))
      return { kind, id: item.id, number: item.number };
    if (this.ctx.verifyBaseData) {
      this.flagged.add(`${row}:${key.toUpperCase()}`);
      const where = row === null ? '' : `第${row + 1}行，`;
      this.errors.push({
        fieldName: key,
        message: `${where}字段“${labelOf(key)}”的值“${text}”在系统中不存在、未审核或已禁用`,
        msgCode: 9,
      });
    }
    return null;
  }

  required(key: string, row: number | null): void {
    if (this.flagged.has(`${row}:${key.toUpperCase()}`)) return;
    const where = row === null ? '' : `第${row + 1}行，`;
    this.errors.push({ fieldName: key, message: `${where}字段“${labelOf(key)}”是必填项`, msgCode: 11 });
  }

  invalid(key: string, message: string): void {
    this.errors.push({ fieldName: key, message, msgCode: 11 });
  }
}

function resolveHeader(model: Obj, v: ModelValidator): Obj {
  const header: Obj = {};
  const ownerType = getField(model, OWNER_FIELDS.header.typeField);
  for (const [key, value] of Object.entries(model)) {
    const upper = key.toUpperCase();
    if (upper === PUR_MRB_ENTRY_KEY || upper === 'FID') continue;
    if (upper === PUR_MRB_FIN_KEY && isObject(value)) {
      const fin: Obj = {};
      for (const [fk, fv] of Object.entries(value)) {
        fin[fk] = fk.toUpperCase() === 'FSETTLEORGID' ? v.resolve('orgs', fk, fv, null) : fv;
      }
      header[key] = fin;
      continue;
    }
    const kind = HEADER_BASE_DATA[upper];
    if (kind) header[key] = v.resolve(kind, key, value, null);
    else if (upper === OWNER_FIELDS.header.field)
      header[key] = v.resolve(ownerKind(ownerType), key, value, null);
    else if (upper === 'FDATE') {
      const date = normaliseDate(value);
      if (date === undefined && !isEmpty(value)) v.invalid(key, `字段“${labelOf(key)}”的值不是有效的日期`);
      header[key] = date ?? null;
    } else if (upper === 'FBILLNO') header[key] = isEmpty(value) ? null : String(value).trim();
    else header[key] = value;
  }
  return header;
}

function resolveEntry(line: unknown, row: number, v: ModelValidator): Obj {
  if (!isObject(line)) {
    v.invalid(PUR_MRB_ENTRY_KEY, `第${row + 1}行分录格式不正确`);
    return {};
  }
  const out: Obj = {};
  const ownerType = getField(line, OWNER_FIELDS.entry.typeField);
  for (const [key, value] of Object.entries(line)) {
    const upper = key.toUpperCase();
    const kind = ENTRY_BASE_DATA[upper];
    if (kind) out[key] = v.resolve(kind, key, value, row);
    else if (upper === OWNER_FIELDS.entry.field) out[key] = v.resolve(ownerKind(ownerType), key, value, row);
    else if (upper === 'FRMREALQTY') {
      const qty = toNumber(value);
      if (qty === undefined && !isEmpty(value))
        v.invalid(key, `第${row + 1}行，字段“${labelOf(key)}”的值不是数字`);
      out[key] = qty ?? null;
    } else out[key] = value;
  }
  return out;
}

/**
 * Validates and normalises one PUR_MRB model. With `existing` (a Model carrying the FID of a saved bill)
 * the given fields replace the bill's; a given FPURMRBENTRY replaces its lines.
 */
export function prepareModel(
  model: unknown,
  ctx: ValidationContext,
  existing?: SandboxBill,
): { ok: true; prepared: PreparedModel } | { ok: false; errors: ModelError[] } {
  if (!isObject(model)) {
    return {
      ok: false,
      errors: [{ fieldName: null, message: 'Model 格式不正确，应为 JSON 对象', msgCode: 8 }],
    };
  }
  const orgNumber = (key: string): string | null => {
    const n = referenceNumber(
      getField(model, key) ?? (existing ? getField(existing.header, key) : undefined),
    );
    if (typeof n === 'string') return n;
    const stored = existing ? getField(existing.header, key) : undefined;
    return isBaseDataRef(stored) ? stored.number : null;
  };
  const v = new ModelValidator(ctx, {
    purchase: orgNumber('FPurchaseOrgId'),
    stock: orgNumber('FStockOrgId'),
  });
  const given = resolveHeader(model, v);
  const header: Obj = existing ? structuredClone(existing.header) : {};
  for (const [k, value] of Object.entries(given)) setField(header, k, value);

  const rawEntries = getField(model, PUR_MRB_ENTRY_KEY);
  let entries: Obj[];
  if (rawEntries === undefined && existing) entries = structuredClone(existing.entries);
  else if (Array.isArray(rawEntries)) entries = rawEntries.map((line, i) => resolveEntry(line, i, v));
  else entries = [];

  const requiredHeader = [...DEFAULT_REQUIRED_HEADER, ...ctx.switches.extraRequiredHeaderFields].filter(
    // Under the ERP numbering rule the bill number comes from the ERP, so it is not needed.
    (k) => !(k.toUpperCase() === 'FBILLNO' && ctx.switches.numbering === 'erp'),
  );
  if (existing && getField(header, 'FBillNo') == null) setField(header, 'FBillNo', existing.billNo);
  for (const key of requiredHeader) if (isEmpty(getField(header, key))) v.required(key, null);

  if (entries.length === 0) {
    v.invalid(PUR_MRB_ENTRY_KEY, `单据体“${labelOf(PUR_MRB_ENTRY_KEY)}”至少需要一行分录`);
  }
  const requiredEntry = [...DEFAULT_REQUIRED_ENTRY, ...ctx.switches.extraRequiredEntryFields];
  entries.forEach((line, row) => {
    for (const key of requiredEntry) if (isEmpty(getField(line, key))) v.required(key, row);
    const qty = getField(line, 'FRMREALQTY');
    if (typeof qty === 'number' && qty <= 0) {
      v.invalid('FRMREALQTY', `第${row + 1}行，字段“${labelOf('FRMREALQTY')}”必须大于0`);
    }
  });

  if (v.errors.length > 0) return { ok: false, errors: v.errors };
  const billNo = getField(header, 'FBillNo');
  return {
    ok: true,
    prepared: {
      fid: existing?.fid ?? 0,
      suppliedBillNo: typeof billNo === 'string' ? billNo : null,
      header,
      entries,
    },
  };
}
