import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSchemeFile } from '@libs/scheme';
import { DraftSchemeError, evaluatePreview, issuePath, parseDraftScheme } from './preview-evaluation.util';

const root = resolve(__dirname, '../../..');
const scheme = loadSchemeFile(resolve(root, 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml'));
const record = JSON.parse(
  readFileSync(resolve(root, 'test/mapping/fixtures/wdt-stockout-return.full.json'), 'utf8'),
) as Record<string, unknown>;

describe('evaluatePreview', () => {
  it('gives the BatchSave body, every precondition passing and the codes to check, personal data masked', async () => {
    const p = await evaluatePreview(scheme, record);
    expect(p.state).toBe('checking');
    expect(p.error).toBeNull();
    expect(JSON.stringify(p.request)).toContain('"FBillNo":"CT2026112800087"');
    expect(p.preconditions.every((c) => c.passed)).toBe(true);
    expect(p.preconditions.map((c) => c.name)).toEqual(scheme.preconditions.map((c) => c.name));
    expect(p.codes).toContainEqual({
      field: 'FSupplierID',
      formId: 'BD_Supplier',
      code: 'GYS017',
      state: 'unchecked',
      message: '',
    });
    expect(p.refs.length).toBe(p.codes.length);
    const shown = JSON.stringify([p.record, p.request]);
    expect(shown).not.toContain('13800000000');
    expect(shown).not.toContain('转塘街道云栖小镇');
  });

  it('lists every failing precondition (not only the first) and still shows the mapping', async () => {
    const p = await evaluatePreview(scheme, { ...record, status: '5' });
    expect(p.preconditions.filter((c) => !c.passed).map((c) => c.name)).toEqual([
      'not-cancelled',
      'shipped-or-completed',
    ]);
    expect(p.preconditions.find((c) => c.name === 'not-cancelled')?.message).toBe(
      'order is cancelled (status 5)',
    );
    expect(p.request).not.toBeNull();
  });

  it('fails with the mapping error when the record cannot be mapped', async () => {
    const p = await evaluatePreview(scheme, { ...record, order_no: undefined });
    expect(p.state).toBe('failed');
    expect(p.error).toMatch(/mapping error \[missing_required\]/);
    expect(p.codes).toEqual([]);
  });
});

describe('parseDraftScheme', () => {
  it('refuses a draft with each issue at the path of its field', () => {
    const yaml = readFileSync(
      resolve(root, 'schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml'),
      'utf8',
    ).replace('enabled: true', 'enabled: maybe');
    try {
      parseDraftScheme(yaml, 'draft.yaml');
      throw new Error('expected a DraftSchemeError');
    } catch (e) {
      expect(e).toBeInstanceOf(DraftSchemeError);
      expect((e as DraftSchemeError).issues).toContainEqual(expect.objectContaining({ path: ['enabled'] }));
    }
  });

  it('turns scheme paths into segments', () => {
    expect(issuePath('mapping.entries[0].fields.FRMREALQTY.type')).toEqual([
      'mapping',
      'entries',
      0,
      'fields',
      'FRMREALQTY',
      'type',
    ]);
    expect(issuePath('(yaml)')).toEqual([]);
  });
});
