import { KingdeeFieldError } from '@libs/kingdee-client';

/**
 * What Kingdee's per-field messages say about base data, and what a look-up of a code in Kingdee's
 * base data means — pure functions (no I/O).
 *
 * Message shapes (shared/reference/kingdee-webapi.md, "Missing base data"; the exact texts are
 * UNCONFIRMED and vary by version and language pack, so matching is deliberately loose):
 * - `IsVerifyBaseDataField: false`: an unknown, forbidden, unaudited or not-allocated code is dropped and
 *   a required field then fails: `字段“供应商”是必填项` (also seen with ASCII quotes, with a line prefix
 *   `第2行，`, or as `…不能为空`);
 * - `IsVerifyBaseDataField: true`: the code fails verification (MsgCode 9), e.g.
 *   `字段“物料编码”的值“X”在系统中不存在、未审核或已禁用`, or `…对应的数据不存在`.
 */

export type BaseDataForm = 'BD_Supplier' | 'BD_MATERIAL' | 'BD_STOCK' | 'ORG_Organizations';
export type BaseDataProblem = 'missing' | 'not_allocated' | 'forbidden' | 'not_audited';

export interface ReferenceField {
  /** Canonical upper-case key. */
  key: string;
  form: BaseDataForm;
  /** What a person calls it (`supplier GYS999 …`). */
  noun: 'supplier' | 'material' | 'stock' | 'organisation';
  /** On the entry `FPURMRBENTRY` (one code per line). */
  entry: boolean;
  /** Labels Kingdee uses in its messages. */
  labels: string[];
}

const ENTRY_KEY = 'FPURMRBENTRY';

const FIELDS: ReferenceField[] = [
  { key: 'FSUPPLIERID', form: 'BD_Supplier', noun: 'supplier', entry: false, labels: ['供应商'] },
  { key: 'FMATERIALID', form: 'BD_MATERIAL', noun: 'material', entry: true, labels: ['物料编码', '物料'] },
  { key: 'FSTOCKID', form: 'BD_STOCK', noun: 'stock', entry: true, labels: ['仓库'] },
  {
    key: 'FSTOCKORGID',
    form: 'ORG_Organizations',
    noun: 'organisation',
    entry: false,
    labels: ['退料组织', '库存组织'],
  },
  {
    key: 'FPURCHASEORGID',
    form: 'ORG_Organizations',
    noun: 'organisation',
    entry: false,
    labels: ['采购组织'],
  },
  {
    key: 'FREQUIREORGID',
    form: 'ORG_Organizations',
    noun: 'organisation',
    entry: false,
    labels: ['需求组织'],
  },
];
const BY_KEY = new Map(FIELDS.map((f) => [f.key, f]));

/** The base-data form behind a Kingdee field key (any case), if it is one this loader can check. */
export function referenceFieldOf(key: string | null | undefined): ReferenceField | undefined {
  return key ? BY_KEY.get(key.toUpperCase()) : undefined;
}

export interface KingdeeMessageClass {
  kind: 'required' | 'not_found' | 'other';
  /** Canonical upper-case key of a reference field, when the message is about one. */
  field: string | null;
  /** 0-based entry line the message names (`第2行` → 1). */
  row: number | null;
}

const REQUIRED = /是必填项|必录|不能为空|不允许为空|is required|required field/i;
const NOT_FOUND =
  /不存在|未审核|已禁用|被禁用|禁用|未分配|does not exist|not exist|not found|forbidden|disabled/i;
const ROW = /第\s*(\d+)\s*行/;
const QUOTED_LABEL = /字段\s*[“"'「]([^”"'」]+)[”"'」]/;

function fieldFromLabel(message: string): ReferenceField | undefined {
  const quoted = QUOTED_LABEL.exec(message)?.[1]?.trim();
  if (quoted) return FIELDS.find((f) => f.labels.includes(quoted));
  // No quoted label: the first label the text starts a phrase with (longest labels first).
  const labels = FIELDS.flatMap((f) => f.labels.map((l) => ({ l, f }))).sort(
    (a, b) => b.l.length - a.l.length,
  );
  return labels.find(({ l }) => message.includes(l))?.f;
}

/** What one of Kingdee's per-field messages is about. */
export function classifyKingdeeMessage(
  e: Pick<KingdeeFieldError, 'fieldName' | 'message'>,
): KingdeeMessageClass {
  const rowMatch = ROW.exec(e.message);
  const row = rowMatch ? Math.max(0, Number(rowMatch[1]) - 1) : null;
  const byName = referenceFieldOf(e.fieldName);
  // A FieldName Kingdee gives wins; a message naming another (non-reference) field is not ours.
  const field =
    byName ??
    (e.fieldName && !referenceFieldOf(e.fieldName) && e.fieldName.trim() !== ''
      ? undefined
      : fieldFromLabel(e.message));
  if (!field) return { kind: 'other', field: null, row };
  // A duplicate number or a quantity check mentions neither.
  if (REQUIRED.test(e.message)) return { kind: 'required', field: field.key, row };
  if (NOT_FOUND.test(e.message)) return { kind: 'not_found', field: field.key, row };
  return { kind: 'other', field: field.key, row };
}

/** One code the document sent for a reference field, and the organisation it must be usable in. */
export interface BaseDataRef {
  form: BaseDataForm;
  noun: ReferenceField['noun'];
  /** The field key as the document spells it. */
  field: string;
  code: string;
  /** Use organisation (number) the code must be allocated to; null for organisations themselves. */
  org: string | null;
  row: number | null;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyOf(obj: Obj, upper: string): string | undefined {
  return Object.keys(obj).find((k) => k.toUpperCase() === upper);
}

/** `{"FNumber":"X"}` (or FNUMBER), or a plain string: the code; null when empty. */
function codeOf(v: unknown): string | null {
  if (typeof v === 'string' || typeof v === 'number') return String(v).trim() || null;
  if (!isObj(v)) return null;
  const k = keyOf(v, 'FNUMBER');
  const n = k === undefined ? undefined : v[k];
  return typeof n === 'string' || typeof n === 'number' ? String(n).trim() || null : null;
}

/**
 * The organisation a bill's base data must be allocated to: suppliers are used by the purchase
 * organisation (else the stock organisation), materials and stocks by the stock organisation.
 */
function useOrgOf(model: Obj, field: ReferenceField): string | null {
  if (field.form === 'ORG_Organizations') return null;
  const pick = (upper: string) => {
    const k = keyOf(model, upper);
    return k === undefined ? null : codeOf(model[k]);
  };
  if (field.form === 'BD_Supplier') return pick('FPURCHASEORGID') ?? pick('FSTOCKORGID');
  return pick('FSTOCKORGID');
}

/** The codes the document sent for the field a message is about (one line, or every distinct one). */
export function referencesFor(model: Obj, cls: KingdeeMessageClass): BaseDataRef[] {
  const field = referenceFieldOf(cls.field);
  if (!field) return [];
  const org = useOrgOf(model, field);
  const base = { form: field.form, noun: field.noun, org };
  if (!field.entry) {
    const k = keyOf(model, field.key);
    const code = k === undefined ? null : codeOf(model[k]);
    return code === null || k === undefined ? [] : [{ ...base, field: k, code, row: null }];
  }
  const ek = keyOf(model, ENTRY_KEY);
  const lines = ek !== undefined && Array.isArray(model[ek]) ? (model[ek] as unknown[]) : [];
  const out: BaseDataRef[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    if (!isObj(line) || (cls.row !== null && cls.row !== i)) return;
    const k = keyOf(line, field.key);
    const code = k === undefined ? null : codeOf(line[k]);
    if (code === null || k === undefined || seen.has(code.toUpperCase())) return;
    seen.add(code.toUpperCase());
    out.push({ ...base, field: k, code, row: cls.row });
  });
  return out;
}

/**
 * The references a refusal is about when it is ONLY about base data: every message is a required or
 * not-found message on a reference field, and each names at least one code the document sent.
 * Undefined otherwise (anything else wrong, or a field the document left empty: a mapping problem).
 */
export function triageErrors(
  model: Obj,
  errors: ReadonlyArray<Pick<KingdeeFieldError, 'fieldName' | 'message'> & { dIndex?: number | null }>,
): BaseDataRef[] | undefined {
  if (errors.length === 0) return undefined;
  const refs: BaseDataRef[] = [];
  for (const e of errors) {
    const cls = classifyKingdeeMessage(e);
    if (cls.kind === 'other') return undefined;
    const found = referencesFor(model, cls);
    if (found.length === 0) return undefined;
    for (const r of found)
      if (!refs.some((x) => x.form === r.form && sameCode(x.code, r.code) && x.org === r.org)) refs.push(r);
  }
  return refs;
}

/** One row of `ExecuteBillQuery` on a base-data form (FNumber, FUseOrgId.FNumber, FForbidStatus, FDocumentStatus). */
export interface BaseDataRow {
  number: string;
  /** Null for forms without a use organisation (ORG_Organizations). */
  useOrg: string | null;
  /** A enabled, B forbidden (禁用). */
  forbidStatus: string | null;
  /** C audited; A created, B submitted, D re-audit, Z temporary. */
  documentStatus: string | null;
}

export function sameCode(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}

/** What holds for one code, from every row Kingdee has for that number. */
export function diagnoseReference(
  ref: BaseDataRef,
  rows: readonly BaseDataRow[],
): BaseDataProblem | 'usable' {
  const mine = rows.filter((r) => sameCode(r.number, ref.code));
  if (mine.length === 0) return 'missing';
  const usedHere =
    ref.org === null ? mine : mine.filter((r) => r.useOrg !== null && sameCode(r.useOrg, ref.org as string));
  if (usedHere.length === 0) return 'not_allocated';
  if (usedHere.some((r) => isEnabled(r) && isAudited(r))) return 'usable';
  if (usedHere.every((r) => !isEnabled(r))) return 'forbidden';
  return 'not_audited';
}

function isEnabled(r: BaseDataRow): boolean {
  return (r.forbidStatus ?? 'A').toUpperCase() !== 'B';
}

function isAudited(r: BaseDataRow): boolean {
  return (r.documentStatus ?? 'C').toUpperCase() === 'C';
}

/** `supplier GYS999 does not exist in Kingdee` and the like. */
export function describeProblem(
  ref: Pick<BaseDataRef, 'noun' | 'code' | 'org'>,
  problem: BaseDataProblem,
): string {
  const what = `${ref.noun} ${ref.code}`;
  switch (problem) {
    case 'missing':
      return `${what} does not exist in Kingdee`;
    case 'not_allocated':
      return `${what} is not allocated to organisation ${ref.org ?? '?'} in Kingdee`;
    case 'forbidden':
      return `${what} is forbidden in Kingdee`;
    case 'not_audited':
      return `${what} is not audited in Kingdee`;
  }
}

/**
 * Every code a document references in the reference fields this loader can check (each distinct code
 * of a field once, lines not told apart): what a live preview asks Kingdee about.
 */
export function referencesOf(model: Obj): BaseDataRef[] {
  const out: BaseDataRef[] = [];
  for (const field of FIELDS)
    for (const r of referencesFor(model, { kind: 'not_found', field: field.key, row: null }))
      if (!out.some((x) => x.form === r.form && sameCode(x.code, r.code) && x.field === r.field)) out.push(r);
  return out;
}
