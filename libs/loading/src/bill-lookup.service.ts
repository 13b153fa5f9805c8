import Decimal from 'decimal.js';
import { findBillsByField, KingdeeQueryRow } from '@libs/kingdee-client';
import { Scheme } from '@libs/scheme';
import { KingdeeConnection, RetrySettings } from './connection-circuit';

/** A bill found in Kingdee by its idempotency value. */
export interface FoundBill {
  id: string;
  number: string | null;
  /** FDocumentStatus: A created, B submitted, C audited, D re-audit, Z temporary. */
  status: string;
}

/** What a bill must agree on with the order for a duplicate-number refusal to count as ours. */
export interface BillContent {
  supplier: string | null;
  date: string | null;
  /** "material\u0000quantity" per line, sorted: a multiset. */
  lines: string[];
}

/**
 * The fields compared between a found bill and the document (PUR_MRB; other forms compare what of
 * these their model has). Header fields are one value per bill; entry fields one row per line.
 */
const COMPARED = {
  supplier: 'FSupplierID',
  date: 'FDate',
  entries: 'FPURMRBENTRY',
  material: 'FMATERIALID',
  quantity: 'FRMREALQTY',
} as const;

const upper = (v: string) => v.toUpperCase();

/**
 * Look-ups in Kingdee (ExecuteBillQuery through the connection's circuit, read retries on failures
 * that applied nothing). Keys compare case-insensitively, as Kingdee's collation does.
 */
export class BillLookup {
  constructor(private readonly readRetry: RetrySettings) {}

  /**
   * Bills per key (keys without a bill are absent). Header fields only, counted by distinct FID:
   * two entries per key mean two bills, never two lines.
   */
  async find(
    connection: KingdeeConnection,
    scheme: Scheme,
    keys: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, FoundBill[]>> {
    const field = scheme.target.idempotencyKey.field;
    const rows = await connection.circuit.withRetries(
      this.readRetry,
      () =>
        connection.circuit.call(() =>
          findBillsByField(connection.api, {
            formId: scheme.target.formId,
            field,
            values: keys,
            fieldKeys: [...new Set(['FID', 'FBillNo', 'FDocumentStatus', field])],
            signal,
          }),
        ),
      signal,
    );
    const wanted = new Map(keys.map((k) => [upper(k), k]));
    const found = new Map<string, FoundBill[]>();
    for (const row of rows) {
      const key = wanted.get(upper(String(row[field] ?? '')));
      if (key === undefined || row.FID == null) continue;
      const bills = found.get(key) ?? [];
      if (!bills.some((b) => b.id === String(row.FID)))
        bills.push({
          id: String(row.FID),
          number: row.FBillNo == null ? null : String(row.FBillNo),
          status: String(row.FDocumentStatus ?? ''),
        });
      found.set(key, bills);
    }
    return found;
  }

  /** Supplier, date and lines of the given bills, for the duplicate-number comparison. */
  async contents(
    connection: KingdeeConnection,
    scheme: Scheme,
    ids: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, BillContent>> {
    if (ids.length === 0) return new Map();
    const fieldKeys = [
      'FID',
      `${COMPARED.supplier}.FNumber`,
      COMPARED.date,
      `${COMPARED.material}.FNumber`,
      COMPARED.quantity,
    ];
    const rows: KingdeeQueryRow[] = await connection.circuit.withRetries(
      this.readRetry,
      () =>
        connection.circuit.call(() =>
          findBillsByField(connection.api, {
            formId: scheme.target.formId,
            field: 'FID',
            values: ids,
            fieldKeys,
            signal,
          }),
        ),
      signal,
    );
    const out = new Map<string, BillContent>();
    for (const row of rows) {
      const id = String(row.FID);
      const content = out.get(id) ?? {
        supplier: text(row[`${COMPARED.supplier}.FNumber`]),
        date: dateOnly(row[COMPARED.date]),
        lines: [],
      };
      const material = text(row[`${COMPARED.material}.FNumber`]);
      if (material !== null) content.lines.push(line(material, row[COMPARED.quantity]));
      out.set(id, content);
    }
    for (const c of out.values()) c.lines.sort();
    return out;
  }
}

/** The same comparison from the document's side: what the model says. */
export function contentOfModel(model: Record<string, unknown>): BillContent {
  const entries = Array.isArray(model[COMPARED.entries])
    ? (model[COMPARED.entries] as Array<Record<string, unknown>>)
    : [];
  return {
    supplier: refNumber(model[COMPARED.supplier]),
    date: dateOnly(model[COMPARED.date]),
    lines: entries
      .filter((e) => refNumber(e[COMPARED.material]) !== null)
      .map((e) => line(refNumber(e[COMPARED.material]) as string, e[COMPARED.quantity]))
      .sort(),
  };
}

/** The differences between what the order calls for and what the bill holds (empty = the same bill). */
export function contentDifferences(expected: BillContent, actual: BillContent): string[] {
  const diffs: string[] = [];
  if (expected.supplier !== null && !sameText(expected.supplier, actual.supplier))
    diffs.push(`${COMPARED.supplier}: order ${expected.supplier}, bill ${actual.supplier ?? '(none)'}`);
  if (expected.date !== null && expected.date !== actual.date)
    diffs.push(`${COMPARED.date}: order ${expected.date}, bill ${actual.date ?? '(none)'}`);
  const a = expected.lines.map(upper).join('|');
  const b = actual.lines.map(upper).join('|');
  if (expected.lines.length > 0 && a !== b)
    diffs.push(
      `lines (${COMPARED.material} × ${COMPARED.quantity}): order ${show(expected.lines)}, bill ${show(actual.lines)}`,
    );
  return diffs;
}

function show(lines: string[]): string {
  return `[${lines.map((l) => l.replace('\u0000', ' × ')).join(', ')}]`;
}

function sameText(a: string, b: string | null): boolean {
  return b !== null && a.toUpperCase() === b.toUpperCase();
}

function text(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  return String(v);
}

function refNumber(v: unknown): string | null {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return text(o.FNumber ?? o.FNUMBER ?? o.Number);
  }
  return text(v);
}

function dateOnly(v: unknown): string | null {
  const t = text(v);
  return t === null ? null : t.slice(0, 10);
}

function line(material: string, quantity: unknown): string {
  let qty: string;
  try {
    qty = new Decimal(String(quantity ?? '0')).toString();
  } catch {
    qty = String(quantity);
  }
  return `${material}\u0000${qty}`;
}
