import { parseScheme, type Scheme } from '@libs/scheme';
import { stringify } from 'yaml';
import { comparisonPlan } from './comparison-plan.util';
import { shippedPlan, shippedScheme } from '../../../test/support/reconcile/reconcile-fixtures.util';

/** The shipped scheme edited, then validated again as a file. */
function variant(change: (raw: Scheme) => void): Scheme {
  const raw = structuredClone(shippedScheme());
  change(raw);
  return parseScheme(stringify(raw), 'variant.yaml');
}

describe('comparisonPlan', () => {
  it('derives the shipped scheme’s fields and FieldKeys (base data by number, key left out)', () => {
    const plan = shippedPlan();
    expect(plan.formId).toBe('PUR_MRB');
    expect(plan.keyField).toBe('FBillNo');
    expect(plan.expectedStatus).toBe('C');
    expect(plan.header.map((f) => [f.path, f.queryKey, f.compare])).toEqual([
      ['FDate', 'FDate', 'day'],
      ['FSupplierID', 'FSupplierID.FNumber', 'ref'],
      ['FMRMODE', 'FMRMODE', 'text'],
      ['FStockOrgId', 'FStockOrgId.FNumber', 'ref'],
      ['FSettleOrgId', 'FSettleOrgId.FNumber', 'ref'],
      ['FPayOrgId', 'FPayOrgId.FNumber', 'ref'],
      ['FOwnerIdHead', 'FOwnerIdHead.FNumber', 'ref'],
    ]);
    expect(plan.entries).toHaveLength(1);
    expect(plan.entries[0].path).toBe('FPURMRBENTRY');
    expect(plan.entries[0].entryIdKey).toBe('FPURMRBENTRY_FEntryID');
    expect(plan.entries[0].fields.map((f) => [f.path, f.queryKey, f.compare])).toEqual([
      ['FMATERIALID', 'FMATERIALID.FNumber', 'ref'],
      ['FRMREALQTY', 'FRMREALQTY', 'decimal'],
      ['FSTOCKID', 'FSTOCKID.FNumber', 'ref'],
      ['FOWNERID', 'FOWNERID.FNumber', 'ref'],
      ['FOWNERTYPEID', 'FOWNERTYPEID', 'text'],
    ]);
    expect(plan.fieldKeys).toEqual([
      'FID',
      'FBillNo',
      'FDocumentStatus',
      'FDate',
      'FSupplierID.FNumber',
      'FMRMODE',
      'FStockOrgId.FNumber',
      'FSettleOrgId.FNumber',
      'FPayOrgId.FNumber',
      'FOwnerIdHead.FNumber',
      'FPURMRBENTRY_FEntryID',
      'FMATERIALID.FNumber',
      'FRMREALQTY',
      'FSTOCKID.FNumber',
      'FOWNERID.FNumber',
      'FOWNERTYPEID',
    ]);
  });

  it('reads a sub-entity field by its own key and honours refKey FNUMBER', () => {
    const plan = comparisonPlan(
      variant((raw) => {
        raw.target.refKey = 'FNUMBER';
        raw.mapping.header.FSettleOrgId.target = 'FPURMRBFIN.FSettleOrgId';
      }),
    );
    const settle = plan.header.find((f) => f.path === 'FPURMRBFIN.FSettleOrgId');
    expect(settle?.queryKey).toBe('FSettleOrgId.FNUMBER');
    expect(plan.fieldKeys).toContain('FSupplierID.FNUMBER');
  });

  it('with a custom key field, reads FBillNo as meta and the key once, and compares neither', () => {
    const plan = comparisonPlan(
      variant((raw) => {
        raw.target.idempotencyKey = { field: 'F_ABC_SourceNo', source: '{{order_no}}' };
        raw.mapping.header.F_ABC_SourceNo = { template: '{{order_no}}', type: 'string', required: false };
      }),
    );
    expect(plan.keyQueryKey).toBe('F_ABC_SourceNo');
    expect(plan.fieldKeys.slice(0, 4)).toEqual(['FID', 'FBillNo', 'FDocumentStatus', 'F_ABC_SourceNo']);
    expect(plan.header.map((f) => f.path)).not.toContain('F_ABC_SourceNo');
    // FBillNo is still mapped from the order but Kingdee may number the bill itself: not compared.
    expect(plan.header.map((f) => f.path)).not.toContain('FBillNo');
  });

  it('expects audited bills in separate mode too (Save → Submit → Audit)', () => {
    const separate = comparisonPlan(
      variant((raw) => {
        raw.target.requestOptions.IsAutoSubmitAndAudit = false;
        raw.target.submitMode = 'separate';
      }),
    );
    expect(separate.expectedStatus).toBe('C');
  });
});
