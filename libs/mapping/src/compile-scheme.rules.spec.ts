import { SchemeSchema, type SchemeInput } from '@libs/scheme';
import * as fs from 'node:fs';
import YAML from 'yaml';
import { compileScheme, type CompiledMapping } from './compile-scheme.util';
import { MappingError } from './mapping.errors';
import {
  goldenRecord,
  SHIPPED_SCHEME_FILE,
  shippedMapping,
} from '../../../test/support/mapping/mapping-fixtures.util';

/** The shipped scheme as an editable object. */
function shippedInput(): SchemeInput {
  return YAML.parse(fs.readFileSync(SHIPPED_SCHEME_FILE, 'utf8')) as SchemeInput;
}

type Line = Record<string, unknown>;
type Model = Record<string, unknown> & { FPURMRBENTRY: Line[] };

function compileInput(input: SchemeInput): CompiledMapping {
  return compileScheme(SchemeSchema.parse(input));
}

function mapError(fn: () => unknown): MappingError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw e;
  }
  throw new Error('expected a MappingError');
}

function documentOf(m: CompiledMapping, record: unknown): Model {
  const r = m.mapSync(record);
  if (r.outcome !== 'document') throw new Error(`expected a document, got ${JSON.stringify(r)}`);
  return r.model as Model;
}

describe('value maps', () => {
  const withMaps = (onMissing: 'fail' | 'passthrough' | 'default', extra: Record<string, unknown> = {}) => {
    const input = shippedInput();
    input.valueMaps = {
      suppliers: { onMissing, entries: { GYS001: 'VEN0001' }, ...extra },
      warehouses: { onMissing, entries: { SH01: 'CK-SH-01' }, ...extra },
    };
    return compileInput(input);
  };

  it('hit: header and line values are replaced (both policies)', () => {
    for (const policy of ['fail', 'passthrough'] as const) {
      const model = documentOf(withMaps(policy), goldenRecord());
      expect(model.FSupplierID).toEqual({ FNumber: 'VEN0001' });
      expect(model.FPURMRBENTRY.map((l) => l.FSTOCKID)).toEqual([
        { FNumber: 'CK-SH-01' },
        { FNumber: 'CK-SH-01' },
      ]);
    }
  });

  it('miss with passthrough: the source value is kept', () => {
    const record = { ...goldenRecord(), provider_no: 'GYS999', warehouse_no: 'BJ09' };
    const model = documentOf(withMaps('passthrough'), record);
    expect(model.FSupplierID).toEqual({ FNumber: 'GYS999' });
    expect(model.FPURMRBENTRY[0].FSTOCKID).toEqual({ FNumber: 'BJ09' });
  });

  it('miss with fail: a value_map_miss error naming field, map and value', () => {
    const e = mapError(() => withMaps('fail').mapSync({ ...goldenRecord(), provider_no: 'GYS999' }));
    expect(e).toMatchObject({
      code: 'value_map_miss',
      field: 'FSupplierID',
      source: 'provider_no',
      billKey: 'CT2026112800012',
    });
    expect(e.message).toBe(
      'FSupplierID: provider_no "GYS999" is not in value map suppliers (onMissing: fail)',
    );
    const line = mapError(() => withMaps('fail').mapSync({ ...goldenRecord(), warehouse_no: 'BJ09' }));
    expect(line).toMatchObject({
      code: 'value_map_miss',
      field: 'FPURMRBENTRY[0].FSTOCKID',
      source: 'warehouse_no',
    });
  });

  it('miss with default: the default is used', () => {
    const model = documentOf(withMaps('default', { default: 'VEN-DEFAULT' }), {
      ...goldenRecord(),
      provider_no: 'GYS999',
    });
    expect(model.FSupplierID).toEqual({ FNumber: 'VEN-DEFAULT' });
  });

  it('the shipped maps are 1:1 passthrough', () => {
    const model = documentOf(shippedMapping(), { ...goldenRecord(), provider_no: 'ANY-SUPPLIER' });
    expect(model.FSupplierID).toEqual({ FNumber: 'ANY-SUPPLIER' });
  });

  it('numeric source values are looked up by their text', () => {
    const model = documentOf(withMaps('fail'), {
      ...goldenRecord(),
      provider_no: 'GYS001',
      warehouse_no: 'SH01',
    });
    expect(model.FSupplierID).toEqual({ FNumber: 'VEN0001' });
    const input = shippedInput();
    input.valueMaps!.suppliers = { onMissing: 'fail', entries: { '7': 'VEN0007' } };
    expect(documentOf(compileInput(input), { ...goldenRecord(), provider_no: 7 }).FSupplierID).toEqual({
      FNumber: 'VEN0007',
    });
  });
});

describe('preconditions of the shipped scheme', () => {
  const m = shippedMapping();
  it.each([
    ['5', 'not-cancelled', 'order is cancelled (status 5)'],
    ['55', 'shipped-or-completed', 'status 55 is not shipped (95) or completed (110)'],
    ['50', 'shipped-or-completed', 'status 50 is not shipped (95) or completed (110)'],
  ])('status %s → skipped by %s', (status, precondition, reason) => {
    expect(m.mapSync({ ...goldenRecord(), status })).toEqual({
      outcome: 'skipped',
      billKey: 'CT2026112800012',
      precondition,
      reason,
    });
  });

  it('no goods lines → skipped', () => {
    expect(m.mapSync({ ...goldenRecord(), details_list: [] })).toMatchObject({
      outcome: 'skipped',
      precondition: 'has-goods-lines',
      reason: 'order has no goods lines',
    });
    expect(m.mapSync({ ...goldenRecord(), details_list: undefined, detail_list: [] })).toMatchObject({
      outcome: 'skipped',
      precondition: 'has-goods-lines',
    });
  });

  it('95 and 110, as strings or numbers, pass', () => {
    for (const status of ['95', '110', 95, 110]) {
      expect(m.mapSync({ ...goldenRecord(), status }).outcome).toBe('document');
    }
  });
});

describe('declarative precondition operators', () => {
  const withPreconditions = (preconditions: unknown[]) => {
    const input = shippedInput();
    input.preconditions = preconditions as SchemeInput['preconditions'];
    return compileInput(input);
  };
  it.each([
    [{ name: 'p', field: 'status', equals: '110' }, { status: '110' }, true],
    [{ name: 'p', field: 'status', equals: 110 }, { status: '110' }, true],
    [{ name: 'p', field: 'status', equals: '110' }, { status: '95' }, false],
    [{ name: 'p', field: 'status', notEquals: '5' }, { status: '5' }, false],
    [{ name: 'p', field: 'remark', exists: true }, { remark: '' }, true],
    [{ name: 'p', field: 'remark', exists: true }, {}, false],
    [{ name: 'p', field: 'remark', exists: false }, { remark: null }, true],
    [{ name: 'p', field: 'remark', nonEmpty: true }, { remark: '' }, false],
    [{ name: 'p', field: 'remark', nonEmpty: true }, { remark: 'x' }, true],
    [{ name: 'p', field: 'details_list', minItems: 3 }, {}, false],
    [{ name: 'p', field: 'extra.level', equals: 'a' }, { extra: { level: 'a' } }, true],
    [{ name: 'p', field: 'extra.level', equals: 'a' }, { extra: 'a' }, false],
  ])('%j on %j → passes: %s', (pc, patch, passes) => {
    const result = withPreconditions([pc]).mapSync({ ...goldenRecord(), ...patch });
    expect(result.outcome).toBe(passes ? 'document' : 'skipped');
    if (!passes) expect(result).toMatchObject({ precondition: 'p', reason: 'precondition p is not met' });
  });

  it('reasons render record values, truncated, and empty for missing ones', () => {
    const m = withPreconditions([
      {
        name: 'p',
        field: 'status',
        equals: 'never',
        reason: '{{order_no}}/{{status}}/{{nope}}/{{extra}}/{{tags}}/{{remark}}',
      },
    ]);
    const record = { ...goldenRecord(), extra: { a: 1 }, tags: [1, 2], remark: 'r'.repeat(150) };
    expect(m.mapSync(record)).toMatchObject({
      reason: `CT2026112800012/110//[object]/[2 items]/${'r'.repeat(100)}…`,
    });
  });
});

describe('target paths', () => {
  it('a field may target FPURMRBFIN (finance sub-entity) and lines may nest too', () => {
    const input = shippedInput();
    input.mapping.header.FSettleOrgId.target = 'FPURMRBFIN.FSettleOrgId';
    input.mapping.header.FSettleCurrId = { const: 'PRE001', type: 'ref', target: 'FPURMRBFIN.FSettleCurrId' };
    input.mapping.header.FIsIncludedTax = {
      const: true,
      type: 'boolean',
      target: 'FPURMRBFIN.FIsIncludedTax',
    };
    input.mapping.entries![0].fields.FLot = { template: '{{details_list.batch_no}}', target: 'FLot.FNumber' };
    const model = documentOf(compileInput(input), {
      ...goldenRecord(),
      details_list: [{ rec_id: '1', spec_no: 'A', goods_count: '1.0000', batch_no: 'B1' }],
    });
    expect(model.FSettleOrgId).toBeUndefined();
    expect(model.FPURMRBFIN).toEqual({
      FSettleOrgId: { FNumber: '101' },
      FSettleCurrId: { FNumber: 'PRE001' },
      FIsIncludedTax: true,
    });
    expect(model.FPURMRBENTRY[0].FLot).toEqual({ FNumber: 'B1' });
    expect(Object.keys(model)).toEqual([
      'FBillNo',
      'FDate',
      'FSupplierID',
      'FMRMODE',
      'FStockOrgId',
      'FPURMRBFIN',
      'FPayOrgId',
      'FOwnerIdHead',
      'FPURMRBENTRY',
    ]);
  });

  it('refKey FNUMBER writes base data as {"FNUMBER": …}', () => {
    const input = shippedInput();
    input.target.refKey = 'FNUMBER';
    expect(documentOf(compileInput(input), goldenRecord()).FStockOrgId).toEqual({ FNUMBER: '101' });
  });
});

describe('templates and empty values', () => {
  const withHeader = (fields: Record<string, unknown>) => {
    const input = shippedInput();
    Object.assign(input.mapping.header, fields);
    return compileInput(input);
  };

  it('mixed templates render text; an empty placeholder empties the whole field', () => {
    const m = withHeader({
      FDESCRIPTION: { template: 'WDT {{order_no}} / {{provider_no}}' },
      FCARRYNO: { template: 'SF-{{logistics_no}}' },
    });
    const model = documentOf(m, goldenRecord());
    expect(model.FDESCRIPTION).toBe('WDT CT2026112800012 / GYS001');
    expect('FCARRYNO' in model).toBe(false);
    expect(documentOf(m, { ...goldenRecord(), logistics_no: 12345 }).FCARRYNO).toBe('SF-12345');
  });

  it('optional fields with "", null or no value are omitted; required ones fail', () => {
    const m = withHeader({ FDELIVERYNO: { template: '{{outer_no}}' } });
    for (const outer_no of ['', null, undefined]) {
      expect('FDELIVERYNO' in documentOf(m, { ...goldenRecord(), outer_no })).toBe(false);
    }
    const req = withHeader({ FDELIVERYNO: { template: '{{outer_no}}', required: true } });
    const e = mapError(() => req.mapSync({ ...goldenRecord(), outer_no: '' }));
    expect(e).toMatchObject({ code: 'missing_required', field: 'FDELIVERYNO', source: 'outer_no' });
    expect(e.message).toBe('FDELIVERYNO: is required but outer_no is empty');
  });

  it('a mixed template with an object placeholder is refused', () => {
    const m = withHeader({ FDESCRIPTION: { template: 'x {{remark}}' } });
    const e = mapError(() => m.mapSync({ ...goldenRecord(), remark: { a: 1 } }));
    expect(e).toMatchObject({ code: 'bad_value', field: 'FDESCRIPTION', source: 'remark' });
  });

  it('the model idempotency field must equal the key', () => {
    const input = shippedInput();
    input.mapping.header.FBillNo = { template: 'X{{order_no}}', required: true };
    const e = mapError(() => compileInput(input).mapSync(goldenRecord()));
    expect(e).toMatchObject({ code: 'key_mismatch', field: 'FBillNo' });
  });
});
