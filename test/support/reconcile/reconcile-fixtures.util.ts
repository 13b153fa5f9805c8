import { compileScheme } from '@libs/mapping';
import { loadSchemeFile, type Scheme } from '@libs/scheme';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { comparisonPlan } from '../../../libs/reconcile/src/comparison-plan.util';
import type {
  ComparisonPlan,
  QueryRow,
  SourceEntry,
  TargetBill,
} from '../../../libs/reconcile/src/reconcile.types';

/** Fixtures for the reconcile unit tests (not used at runtime). */
const REPO_ROOT = path.resolve(__dirname, '../../..');

export function shippedScheme(): Scheme {
  return loadSchemeFile(path.join(REPO_ROOT, 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml'));
}

export function shippedPlan(): ComparisonPlan {
  return comparisonPlan(shippedScheme());
}

/** The seed's golden WDT record (fresh copy per call). */
export function goldenRecord(): Record<string, unknown> {
  const text = fs.readFileSync(
    path.join(REPO_ROOT, 'test/mapping/fixtures/golden-record.verbatim.txt'),
    'utf8',
  );
  return JSON.parse(text) as Record<string, unknown>;
}

/** The golden record mapped by the shipped scheme, as the source reader would hand it over. */
export function goldenEntry(): SourceEntry & { outcome: 'document' } {
  const r = compileScheme(shippedScheme()).mapSync(goldenRecord());
  if (r.outcome !== 'document') throw new Error('the golden record maps to a document');
  return { key: r.billKey, orderNo: r.billKey, outcome: 'document', model: r.model };
}

/**
 * The bill Kingdee holds for a model of the shipped scheme, as ExecuteBillQuery returns it (the
 * sandbox's rendering: base data by number, FDate with Kingdee's time part, quantities as numbers).
 */
export function billFor(model: Readonly<Record<string, unknown>>, fid = '100001'): TargetBill {
  const num = (v: unknown): unknown => (v && typeof v === 'object' ? (v as { FNumber: unknown }).FNumber : v);
  const header: Record<string, unknown> = {
    FID: Number(fid),
    FBillNo: model.FBillNo,
    FDocumentStatus: 'C',
    'FSupplierID.FNumber': num(model.FSupplierID),
    FDate: `${String(model.FDate).slice(0, 10)}T00:00:00`,
    FMRMODE: model.FMRMODE,
    'FStockOrgId.FNumber': num(model.FStockOrgId),
    'FSettleOrgId.FNumber': num(model.FSettleOrgId),
    'FPayOrgId.FNumber': num(model.FPayOrgId),
    'FOwnerIdHead.FNumber': num(model.FOwnerIdHead),
  };
  const lines = (model.FPURMRBENTRY as Record<string, unknown>[]).map((l, i): QueryRow => ({
    ...header,
    FPURMRBENTRY_FEntryID: 500 + i,
    'FMATERIALID.FNumber': num(l.FMATERIALID),
    FRMREALQTY: Number(l.FRMREALQTY),
    'FSTOCKID.FNumber': num(l.FSTOCKID),
    'FOWNERID.FNumber': num(l.FOWNERID),
    FOWNERTYPEID: l.FOWNERTYPEID,
  }));
  return {
    fid,
    billNo: String(model.FBillNo),
    key: String(model.FBillNo),
    documentStatus: 'C',
    header,
    entries: { FPURMRBENTRY: lines },
  };
}
