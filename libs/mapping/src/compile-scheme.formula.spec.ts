import { compileFormula } from './formula-functions.util';
import { MappingError } from './mapping.errors';
import { fixtureJson, mappingFromYaml } from '../../../test/support/mapping/mapping-fixtures.util';

/** A scheme around the given header / line fields (YAML flow maps, 4 / 8 spaces indented). */
function formulaScheme(header: string[], lines: string[], preconditions: string[] = []): string {
  return [
    'id: formula-test',
    'name: formulas',
    'source: { system: wdt, method: wdt.stockout.order.query.return }',
    'target:',
    '  system: kingdee',
    '  formId: PUR_MRB',
    '  idempotencyKey: { field: FBillNo, source: "{{order_no}}" }',
    'mapping:',
    '  header:',
    '    FBillNo: { template: "{{order_no}}", required: true }',
    ...header.map((l) => `    ${l}`),
    '  entries:',
    '    - path: FPURMRBENTRY',
    '      source: details_list',
    '      sourceAliases: [detail_list]',
    '      fields:',
    '        FMATERIALID: { template: "{{details_list.spec_no}}", type: ref, required: true }',
    ...lines.map((l) => `        ${l}`),
    `preconditions: ${preconditions.length ? '' : '[]'}`,
    ...preconditions.map((l) => `  - ${l}`),
  ].join('\n');
}

const full = () => fixtureJson('wdt-stockout-return.full.json');

async function mapError(p: Promise<unknown>): Promise<MappingError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw e;
  }
  throw new Error('expected a MappingError');
}

describe('formula fields (JSONata, with $line inside entries)', () => {
  const header = [
    `FDateOnly: { formula: "$shanghaiDate(consign_time)", type: date }`,
    `FNextDay: { formula: "$shanghaiDateTime($shanghaiMillis(consign_time) + 86400000)", type: datetime }`,
    `FLateNight: { formula: "$shanghaiDate($shanghaiMillis(consign_time) + 15 * 3600000)", type: date }`,
    `FTotalQty: { formula: "$sum(details_list.goods_count)", type: decimal }`,
    `FTotalAmount: { formula: "$decimal($sum(details_list.($dmul(goods_count, price))), 2)", type: decimal }`,
    `FExact: { formula: "$dadd('0.1', '0.2')", type: decimal }`,
    `FMode: { formula: "$case(status, {'95': 'A', '110': 'B'}, 'Z')" }`,
    `FModeDefault: { formula: "$case('7', {'95': 'A'}, 'Z')" }`,
    `FDESCRIPTION: { formula: "$substringBefore(remark, '，') & ' / ' & provider_name" }`,
    `FUpper: { formula: "$uppercase(warehouse_no & '-' & $lowercase('ABC'))" }`,
    `FIsBig: { formula: "$sum(details_list.goods_count) > 10", type: boolean }`,
    `FFirstSpec: { formula: "details_list[0].spec_no", type: ref }`,
    `FCond: { formula: "status = '110' ? 'completed' : 'shipped'" }`,
    `FLineCount: { formula: "$count(details_list)", type: integer }`,
    `FGiftSpec: { formula: "details_list[$number(price) = 0].spec_no", type: ref }`,
    `FNothing: { formula: "no_such_field" }`,
  ];
  const lines = [
    `FPrice: { formula: "$decimal($line.price, 2)", type: decimal }`,
    `FAmount: { formula: "$dmul($line.goods_count, $line.price)", type: decimal }`,
    `FNOTE: { formula: "$line.goods_name & ' #' & $string($lineIndex + 1) & ' @' & warehouse_no" }`,
    `FGiveAway: { formula: "$number($line.price) = 0", type: boolean }`,
    `FTAXPRICE: { formula: "$ddiv($line.price, '1.13', 4)", type: decimal }`,
    `FShare: { formula: "$ddiv($line.goods_count, $sum(details_list.goods_count), 4)", type: decimal }`,
    `FRMREALQTY: { template: "{{details_list.goods_count}}", type: decimal, required: true }`,
  ];
  const mapping = mappingFromYaml(formulaScheme(header, lines));

  it('evaluates dates, decimal arithmetic, conditionals, strings, case/when and header-from-line', async () => {
    expect(mapping.usesFormulas).toBe(true);
    const result = await mapping.map(full());
    if (result.outcome !== 'document') throw new Error('expected a document');
    const { FPURMRBENTRY, ...head } = result.model;
    expect(head).toEqual({
      FBillNo: 'CT2026112800087',
      FDateOnly: '2026-11-28',
      FNextDay: '2026-11-29 09:42:17',
      FLateNight: '2026-11-29',
      FTotalQty: 13.5,
      FTotalAmount: 648.75,
      FExact: 0.3,
      FMode: 'A',
      FModeDefault: 'Z',
      FDESCRIPTION: '质检不合格退回 / 义乌市佳禾日用品有限公司',
      FUpper: 'HZ-02-ABC',
      FIsBig: true,
      FFirstSpec: { FNumber: 'BWB-500-W' },
      FCond: 'shipped',
      FLineCount: 3,
      FGiftSpec: { FNumber: 'ZP-TOTE-01' },
    });
    expect(FPURMRBENTRY).toEqual([
      {
        FMATERIALID: { FNumber: 'BWB-500-W' },
        FPrice: 59.9,
        FAmount: 599,
        FNOTE: '保温杯 500ml #1 @HZ-02',
        FGiveAway: false,
        FTAXPRICE: 53.0088,
        FShare: 0.7407,
        FRMREALQTY: 10,
      },
      {
        FMATERIALID: { FNumber: 'FH-L' },
        FPrice: 19.9,
        FAmount: 49.75,
        FNOTE: '收纳防尘罩 #2 @HZ-02',
        FGiveAway: false,
        FTAXPRICE: 17.6106,
        FShare: 0.1852,
        FRMREALQTY: 2.5,
      },
      {
        FMATERIALID: { FNumber: 'ZP-TOTE-01' },
        FPrice: 0,
        FAmount: 0,
        FNOTE: '帆布手提袋（赠品） #3 @HZ-02',
        FGiveAway: true,
        FTAXPRICE: 0,
        FShare: 0.0741,
        FRMREALQTY: 1,
      },
    ]);
  });

  it('mapSync refuses a scheme with formulas', () => {
    expect(() => mapping.mapSync(full())).toThrow(/uses formulas; use map\(\)/);
  });

  it('formulas see lines sent under the alias name', async () => {
    const record = full();
    record.detail_list = record.details_list;
    delete record.details_list;
    const result = await mapping.map(record);
    if (result.outcome !== 'document') throw new Error('expected a document');
    expect(result.model.FTotalQty).toBe(13.5);
    expect(record.details_list).toBeUndefined();
  });
});

describe('formula failures become MappingErrors naming the field', () => {
  it('a helper refusing its input, on a line', async () => {
    const m = mappingFromYaml(
      formulaScheme([], [`FX: { formula: "$dmul($line.goods_name, 2)", type: decimal }`]),
    );
    const e = await mapError(m.map(full()));
    expect(e).toMatchObject({
      code: 'formula_error',
      field: 'FPURMRBENTRY[0].FX',
      billKey: 'CT2026112800087',
    });
    expect(e.message).toMatch(
      /^FPURMRBENTRY\[0\]\.FX: formula failed: \$dmul: "保温杯 500ml" is not a decimal number/,
    );
  });

  it('a JSONata type error', async () => {
    const m = mappingFromYaml(formulaScheme([`FX: { formula: "order_no + 1" }`], []));
    const e = await mapError(m.map(full()));
    expect(e).toMatchObject({ code: 'formula_error', field: 'FX' });
    expect(e.message).toMatch(/T2001/);
  });

  it('results that are not scalars', async () => {
    let m = mappingFromYaml(formulaScheme([`FX: { formula: "{'a': order_no}" }`], []));
    expect(await mapError(m.map(full()))).toMatchObject({ code: 'bad_value', field: 'FX' });
    m = mappingFromYaml(formulaScheme([`FX: { formula: "details_list.spec_no", type: ref }`], []));
    const e = await mapError(m.map(full()));
    expect(e).toMatchObject({ code: 'bad_value', field: 'FX' });
    expect(e.message).toMatch(/^FX: formula result is an array, expected text$/);
  });

  it('a required formula field without a value', async () => {
    const m = mappingFromYaml(formulaScheme([`FX: { formula: "no_such_field", required: true }`], []));
    expect(await mapError(m.map(full()))).toMatchObject({ code: 'missing_required', field: 'FX' });
  });

  it('runaway recursion is stopped by the depth or time guard', async () => {
    const m = mappingFromYaml(
      formulaScheme([`FX: { formula: "($f := function($n) { $f($n + 1) }; $f(0))" }`], []),
    );
    const e = await mapError(m.map(full()));
    expect(e).toMatchObject({ code: 'formula_error', field: 'FX' });
    expect(e.message).toMatch(/D1011|D1012/);
  });

  it('huge sequences are stopped by the sequence guard', async () => {
    const m = mappingFromYaml(
      formulaScheme([`FX: { formula: "$count([1..5000000].($ * 2))", type: integer }`], []),
      {
        formulaLimits: { maxSequence: 10_000 },
      },
    );
    const e = await mapError(m.map(full()));
    expect(e).toMatchObject({ code: 'formula_error', field: 'FX' });
  });

  it('$eval is disabled at run time too', async () => {
    await expect(compileFormula('$eval("1 + 1")').evaluate({})).rejects.toThrow(/\$eval is disabled/);
  });
});

describe('formula preconditions', () => {
  const pcs = [
    `{ name: shipped, field: status, in: ["95", "110"] }`,
    `{ name: positive-lines, formula: "$count(details_list[$number(goods_count) <= 0]) = 0", reason: "order {{order_no}} has a line with a non-positive quantity" }`,
  ];
  const m = mappingFromYaml(formulaScheme([], [], pcs));

  it('pass → document', async () => {
    expect((await m.map(full())).outcome).toBe('document');
  });

  it('fail → skipped with the rendered reason', async () => {
    const record = full();
    (record.details_list as Array<Record<string, unknown>>)[1].goods_count = '-1.0000';
    expect(await m.map(record)).toEqual({
      outcome: 'skipped',
      billKey: 'CT2026112800087',
      precondition: 'positive-lines',
      reason: 'order CT2026112800087 has a line with a non-positive quantity',
    });
  });

  it('declarative preconditions still come first, in order', async () => {
    const record = full();
    record.status = '55';
    expect(await m.map(record)).toMatchObject({ outcome: 'skipped', precondition: 'shipped' });
  });

  it('a precondition formula must give true or false', async () => {
    const bad = mappingFromYaml(formulaScheme([], [], [`{ name: odd, formula: "order_no" }`]));
    const e = await mapError(bad.map(full()));
    expect(e).toMatchObject({ code: 'formula_error', field: 'preconditions[0] (odd)' });
  });
});
