import { readSchemesDir } from '@libs/scheme';
import * as path from 'node:path';
import { MappingError } from './mapping.errors';
import {
  goldenRecord,
  mappingFromYaml,
  REPO_ROOT,
} from '../../../test/support/mapping/mapping-fixtures.util';
import { compileScheme } from './compile-scheme.util';

const yaml = (header: string, extra = '', key = '{{$sid}}-{{order_no}}') =>
  [
    'id: sid-scheme',
    'name: sid',
    'source: { system: wdt, method: wdt.stockout.order.query.return }',
    'target:',
    '  system: kingdee',
    '  formId: PUR_MRB',
    `  idempotencyKey: { field: FBillNo, source: "${key}" }`,
    'mapping:',
    '  header:',
    `    FBillNo: { template: "${key}", required: true }`,
    header,
    '  entries:',
    '    - path: FPURMRBENTRY',
    '      source: details_list',
    '      fields:',
    '        FNOTE: { template: "{{$sid}}/{{details_list.spec_no}}" }',
    extra,
  ].join('\n');

const record = { order_no: 'CT1', status: '95', details_list: [{ spec_no: 'M1' }, { spec_no: 'M2' }] };

async function mapError(p: Promise<unknown>): Promise<MappingError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw e;
  }
  throw new Error('expected a MappingError');
}

describe('{{$sid}} and $sid', () => {
  it('templates, the key and line templates read the sid given per evaluation', () => {
    const m = mappingFromYaml(
      yaml('    FSid: { template: "{{$sid}}" }\n    FTxt: { template: "WDT {{$sid}} {{order_no}}" }'),
    );
    expect(m.usesFormulas).toBe(false);
    const r = m.mapSync(record, { sid: 'shop-a-sid' });
    expect(r).toMatchObject({
      outcome: 'document',
      billKey: 'shop-a-sid-CT1',
      model: {
        FBillNo: 'shop-a-sid-CT1',
        FSid: 'shop-a-sid',
        FTxt: 'WDT shop-a-sid CT1',
        FPURMRBENTRY: [{ FNOTE: 'shop-a-sid/M1' }, { FNOTE: 'shop-a-sid/M2' }],
      },
    });
    expect(m.mapSync(record, { sid: 'other' }).billKey).toBe('other-CT1');
  });

  it('without a sid, {{$sid}} fails naming the field', async () => {
    const m = mappingFromYaml(yaml('    FSid: { template: "x-{{$sid}}" }', '', '{{order_no}}'));
    const e = await mapError(m.map(record));
    expect(e).toMatchObject({ code: 'missing_required', field: 'FSid', billKey: 'CT1' });
    expect(e.message).toMatch(/^FSid: \{\{\$sid\}\} needs the sid of the record's source connection/);
    const key = mappingFromYaml(yaml('    FDate: { template: "{{order_no}}" }'));
    expect(() => key.mapSync(record)).toThrow(/^FBillNo: \{\{\$sid\}\} needs the sid/);
    const line = mappingFromYaml(yaml('    FX: { template: "{{order_no}}" }', '', '{{order_no}}'));
    expect((await mapError(line.map(record))).field).toBe('FPURMRBENTRY[0].FNOTE');
  });

  it('formulas read $sid (header, lines, preconditions); undefined without one', async () => {
    const m = mappingFromYaml(
      yaml(
        '    FF: { formula: "$sid & \':\' & order_no" }',
        [
          '        FL: { formula: "$sid & \'#\' & $string($lineIndex)" }',
          'preconditions:',
          '  - { name: not-blocked, formula: "$sid != \'blocked\'", reason: "shop {{$sid}} is blocked" }',
        ].join('\n'),
        '{{order_no}}',
      ),
    );
    const r = await m.map(record, { sid: 'S9' });
    expect(r).toMatchObject({
      outcome: 'document',
      model: { FF: 'S9:CT1', FPURMRBENTRY: [{ FL: 'S9#0' }, { FL: 'S9#1' }] },
    });
    expect(await m.map(record, { sid: 'blocked' })).toEqual({
      outcome: 'skipped',
      billKey: 'CT1',
      precondition: 'not-blocked',
      reason: 'shop blocked is blocked',
    });
  });

  it('the multi-shop example maps the golden record per shop', () => {
    const dir = path.join(REPO_ROOT, 'examples/schemes-multi-shop');
    const [a, b, c] = readSchemesDir(dir).map((e) => compileScheme(e.scheme));
    const ra = a.mapSync(goldenRecord(), { sid: 'shop-a-sid' });
    const rb = b.mapSync(goldenRecord(), { sid: 'shop-b-sid' });
    const rc = c.mapSync(goldenRecord(), { sid: 'shop-c-sid' });
    expect([ra.billKey, rb.billKey, rc.billKey]).toEqual([
      'shop-a-sid-CT2026112800012',
      'shop-b-sid-CT2026112800012',
      'shop-c-sid-CT2026112800012',
    ]);
    expect(rc).toMatchObject({ outcome: 'document', model: { FStockOrgId: { FNumber: '201' } } });
    expect(ra).toMatchObject({
      outcome: 'document',
      model: { FStockOrgId: { FNumber: '101' }, FDESCRIPTION: 'WDT shop-a-sid CT2026112800012' },
    });
  });
});
