import { compileScheme, type CompiledMapping, type MapResult } from './compile-scheme.util';
import { MAPPING_ERROR_CODES, MappingError, type MappingErrorCode } from './mapping.errors';
import {
  goldenRecord,
  mappingFromYaml,
  shippedScheme,
} from '../../../test/support/mapping/mapping-fixtures.util';

/**
 * Malformed and hostile records against the shipped scheme. Every case states its outcome:
 * a MappingError with a code and the field it names, a skip with its precondition, or a document
 * (where the input is odd but valid). Nothing may throw anything but a MappingError.
 */

type Rec = Record<string, unknown>;
type Expect =
  | { error: MappingErrorCode; field: string; message?: RegExp }
  | { skip: string }
  | { document: (model: Rec) => void };

interface Case {
  name: string;
  record: () => unknown;
  expect: Expect;
}

const golden = goldenRecord;
/** The golden record with some header keys replaced (undefined deletes). */
const withHeader = (patch: Rec) => (): unknown => {
  const r: Rec = { ...golden(), ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete r[k];
  return r;
};
/** The golden record with line 1 (the second line) patched. */
const withLine = (patch: Rec) => (): unknown => {
  const r = golden();
  const lines = r.details_list as Rec[];
  const line: Rec = { ...lines[1], ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete line[k];
  lines[1] = line;
  return r;
};
/** A record from JSON text, so `__proto__` arrives as an own key exactly as from Kafka. */
const fromJson = (text: string) => (): unknown => JSON.parse(text) as unknown;
const goldenJson = (): string => JSON.stringify(golden());

const err = (error: MappingErrorCode, field: string, message?: RegExp): Expect => ({ error, field, message });
const qty = (value: unknown, code: MappingErrorCode, message?: RegExp): Case => ({
  name: `goods_count ${JSON.stringify(value)}`,
  record: withLine({ goods_count: value }),
  expect: err(code, 'FPURMRBENTRY[1].FRMREALQTY', message),
});

const cases: Case[] = [
  // --- the record itself
  {
    name: 'null record',
    record: () => null,
    expect: err('malformed_record', '(record)', /the record is null, expected a JSON object/),
  },
  {
    name: 'undefined record',
    record: () => undefined,
    expect: err('malformed_record', '(record)', /undefined/),
  },
  { name: 'empty array record', record: () => [], expect: err('malformed_record', '(record)', /an array/) },
  {
    name: 'array of records',
    record: () => [golden()],
    expect: err('malformed_record', '(record)', /an array/),
  },
  {
    name: 'string record',
    record: () => goldenJson(),
    expect: err('malformed_record', '(record)', /expected a JSON object/),
  },
  { name: 'number record', record: () => 42, expect: err('malformed_record', '(record)', /42/) },
  { name: 'boolean record', record: () => true, expect: err('malformed_record', '(record)', /true/) },
  { name: 'empty object', record: () => ({}), expect: err('malformed_record', 'details_list', /missing/) },

  // --- order_no (the idempotency key)
  {
    name: 'order_no missing',
    record: withHeader({ order_no: undefined }),
    expect: err('missing_required', 'FBillNo', /order_no, which is missing/),
  },
  {
    name: 'order_no empty',
    record: withHeader({ order_no: '' }),
    expect: err('missing_required', 'FBillNo', /order_no, which is empty/),
  },
  {
    name: 'order_no null',
    record: withHeader({ order_no: null }),
    expect: err('missing_required', 'FBillNo'),
  },
  {
    name: 'order_no a number',
    record: withHeader({ order_no: 2026112800012 }),
    expect: err('bad_value', 'FBillNo', /order_no 2026112800012 must be a string/),
  },
  {
    name: 'order_no beyond 2^53',
    record: withHeader({ order_no: 2 ** 60 }),
    expect: err('bad_value', 'FBillNo'),
  },
  {
    name: 'order_no an object',
    record: withHeader({ order_no: { v: 'CT1' } }),
    expect: err('bad_value', 'FBillNo', /an object/),
  },
  {
    name: 'order_no an array',
    record: withHeader({ order_no: ['CT1'] }),
    expect: err('bad_value', 'FBillNo', /an array/),
  },
  { name: 'order_no a boolean', record: withHeader({ order_no: true }), expect: err('bad_value', 'FBillNo') },
  {
    name: 'order_no huge',
    record: withHeader({ order_no: 'C'.repeat(100_000) }),
    expect: err('value_too_long', 'FBillNo', /100000 characters/),
  },
  {
    name: 'order_no lone surrogate',
    record: withHeader({ order_no: 'CT\ud800001' }),
    expect: err('bad_encoding', 'FBillNo'),
  },
  {
    name: 'order_no NUL byte',
    record: withHeader({ order_no: 'CT\u0000001' }),
    expect: err('bad_encoding', 'FBillNo'),
  },

  // --- the line array
  {
    name: 'details_list missing',
    record: withHeader({ details_list: undefined }),
    expect: err('malformed_record', 'details_list', /missing/),
  },
  {
    name: 'details_list null',
    record: withHeader({ details_list: null }),
    expect: err('malformed_record', 'details_list', /is null/),
  },
  {
    name: 'details_list a string',
    record: withHeader({ details_list: '[{"spec_no":"A"}]' }),
    expect: err('malformed_record', 'details_list', /expected an array/),
  },
  {
    name: 'details_list an object',
    record: withHeader({ details_list: { 0: { spec_no: 'A' } } }),
    expect: err('malformed_record', 'details_list', /an object, expected an array/),
  },
  {
    name: 'details_list a number',
    record: withHeader({ details_list: 2 }),
    expect: err('malformed_record', 'details_list'),
  },
  {
    name: 'details_list empty',
    record: withHeader({ details_list: [] }),
    expect: { skip: 'has-goods-lines' },
  },
  {
    name: 'a line is null',
    record: () => ({ ...golden(), details_list: [(golden().details_list as Rec[])[0], null] }),
    expect: err('malformed_record', 'details_list[1]', /line 1 is null/),
  },
  {
    name: 'a line is a string',
    record: () => ({ ...golden(), details_list: ['BWB-500-W'] }),
    expect: err('malformed_record', 'details_list[0]'),
  },
  {
    name: 'a line is an array',
    record: () => ({ ...golden(), details_list: [[1, 2]] }),
    expect: err('malformed_record', 'details_list[0]', /an array/),
  },
  {
    name: 'a line is a number',
    record: () => ({ ...golden(), details_list: [7] }),
    expect: err('malformed_record', 'details_list[0]'),
  },
  {
    name: 'lines only under detail_list (alias)',
    record: () => {
      const r = golden();
      r.detail_list = r.details_list;
      delete r.details_list;
      return r;
    },
    expect: { document: (m) => expect(m.FPURMRBENTRY).toHaveLength(2) },
  },
  {
    name: 'details_list inherited, not own',
    record: () => {
      const { details_list, ...rest } = golden();
      return Object.assign(Object.create({ details_list }) as Rec, rest);
    },
    expect: err('malformed_record', 'details_list', /missing/),
  },

  // --- quantities
  qty('abc', 'bad_decimal', /details_list\[1\]\.goods_count "abc" is not a plain decimal/),
  qty('1e400', 'bad_decimal', /"1e400" is not a plain decimal/),
  qty('1e5', 'bad_decimal'),
  qty('-', 'bad_decimal'),
  qty('NaN', 'bad_decimal'),
  qty('Infinity', 'bad_decimal'),
  qty('0x1A', 'bad_decimal'),
  qty('1,5', 'bad_decimal'),
  qty('0.0000', 'bad_decimal', /must be greater than 0/),
  qty('-2.0000', 'bad_decimal', /must be greater than 0/),
  qty('12345678901234567890', 'bad_decimal', /more than 15 integer digits/),
  qty('9'.repeat(5000), 'bad_decimal', /too long/),
  qty({ value: '2' }, 'bad_decimal', /is an object, expected a decimal string/),
  qty(['2.0000'], 'bad_decimal', /an array/),
  qty(true, 'bad_decimal'),
  qty(1e300, 'bad_decimal', /out of range/),
  qty('', 'missing_required', /FRMREALQTY: is required but details_list\[1\]\.goods_count is empty/),
  qty(null, 'missing_required'),
  {
    name: 'goods_count missing',
    record: withLine({ goods_count: undefined }),
    expect: err('missing_required', 'FPURMRBENTRY[1].FRMREALQTY', /goods_count is missing/),
  },
  {
    name: 'goods_count a number (Qimen)',
    record: withLine({ goods_count: 3 }),
    expect: { document: (m) => expect((m.FPURMRBENTRY as Rec[])[1].FRMREALQTY).toBe(3) },
  },
  {
    name: 'goods_count padded',
    record: withLine({ goods_count: ' 2.5000 ' }),
    expect: { document: (m) => expect((m.FPURMRBENTRY as Rec[])[1].FRMREALQTY).toBe(2.5) },
  },

  // --- spec_no (material) and other text fields
  {
    name: 'spec_no missing',
    record: withLine({ spec_no: undefined }),
    expect: err('missing_required', 'FPURMRBENTRY[1].FMATERIALID'),
  },
  {
    name: 'spec_no a number',
    record: withLine({ spec_no: 10086 }),
    expect: {
      document: (m) => expect((m.FPURMRBENTRY as Rec[])[1].FMATERIALID).toEqual({ FNumber: '10086' }),
    },
  },
  {
    name: 'spec_no huge',
    record: withLine({ spec_no: 'X'.repeat(1_000_000) }),
    expect: err(
      'value_too_long',
      'FPURMRBENTRY[1].FMATERIALID',
      /\(1000000 chars\) is 1000000 characters long/,
    ),
  },
  {
    name: 'spec_no lone low surrogate',
    record: withLine({ spec_no: 'FH-\udc00L' }),
    expect: err('bad_encoding', 'FPURMRBENTRY[1].FMATERIALID'),
  },
  {
    name: 'spec_no U+FFFD (bytes lost in decoding)',
    record: withLine({ spec_no: 'FH-\ufffd\ufffd' }),
    expect: err('bad_encoding', 'FPURMRBENTRY[1].FMATERIALID', /broken by a wrong encoding/),
  },
  {
    name: 'spec_no Latin-1 mojibake (valid text, passed on; Kingdee base data rejects it)',
    record: withLine({ spec_no: 'ä¿æ¸©æ¯' }),
    expect: {
      document: (m) => expect((m.FPURMRBENTRY as Rec[])[1].FMATERIALID).toEqual({ FNumber: 'ä¿æ¸©æ¯' }),
    },
  },
  {
    name: 'spec_no with an emoji (valid pair)',
    record: withLine({ spec_no: 'FH-😀' }),
    expect: {
      document: (m) => expect((m.FPURMRBENTRY as Rec[])[1].FMATERIALID).toEqual({ FNumber: 'FH-😀' }),
    },
  },
  {
    name: 'spec_no nested garbage',
    record: withLine({ spec_no: { a: [{ b: { c: null } }] } }),
    expect: err('bad_value', 'FPURMRBENTRY[1].FMATERIALID', /is an object, expected text/),
  },
  {
    name: 'consign_time missing',
    record: withHeader({ consign_time: undefined }),
    expect: err('missing_required', 'FDate', /consign_time is missing/),
  },
  {
    name: 'consign_time impossible',
    record: withHeader({ consign_time: '2026-02-30 10:00:00' }),
    expect: err('bad_date', 'FDate', /"2026-02-30 10:00:00" is not a valid Shanghai date/),
  },
  {
    name: 'consign_time WDT zero date',
    record: withHeader({ consign_time: '0000-00-00 00:00:00' }),
    expect: err('missing_required', 'FDate', /empty date/),
  },
  {
    name: 'consign_time a number',
    record: withHeader({ consign_time: 1764264600 }),
    expect: err('bad_date', 'FDate', /a number, expected date\/time text/),
  },
  {
    name: 'consign_time ISO with T',
    record: withHeader({ consign_time: '2026-11-28T01:30:00' }),
    expect: { document: (m) => expect(m.FDate).toBe('2026-11-28 01:30:00') },
  },
  {
    name: 'provider_no missing',
    record: withHeader({ provider_no: undefined }),
    expect: err('missing_required', 'FSupplierID'),
  },
  {
    name: 'provider_no an array',
    record: withHeader({ provider_no: ['GYS001'] }),
    expect: err('bad_value', 'FSupplierID', /an array/),
  },
  {
    name: 'warehouse_no missing',
    record: withHeader({ warehouse_no: undefined }),
    expect: err('missing_required', 'FPURMRBENTRY[0].FSTOCKID', /warehouse_no is missing/),
  },
  {
    name: 'warehouse_no with a control character',
    record: withHeader({ warehouse_no: 'SH\u000701' }),
    expect: err('bad_encoding', 'FPURMRBENTRY[0].FSTOCKID'),
  },

  // --- status
  {
    name: 'status missing',
    record: withHeader({ status: undefined }),
    expect: { skip: 'shipped-or-completed' },
  },
  { name: 'status cancelled', record: withHeader({ status: '5' }), expect: { skip: 'not-cancelled' } },
  {
    name: 'status an object',
    record: withHeader({ status: { code: '110' } }),
    expect: { skip: 'shipped-or-completed' },
  },
  {
    name: 'status a number',
    record: withHeader({ status: 110 }),
    expect: { document: (m) => expect(m.FBillNo).toBe('CT2026112800012') },
  },

  // --- hostile keys (as JSON.parse creates them: own properties)
  {
    name: '__proto__ at header level carrying order_no',
    record: fromJson(
      goldenJson().replace(
        '"order_no":"CT2026112800012",',
        '"__proto__":{"order_no":"EVIL","polluted":true},',
      ),
    ),
    expect: err('missing_required', 'FBillNo'),
  },
  {
    name: '__proto__ at header level beside the real fields',
    record: fromJson(goldenJson().replace('{', '{"__proto__":{"polluted":true,"FBillNo":"EVIL"},')),
    expect: { document: (m) => expect(Object.keys(m)).not.toContain('__proto__') },
  },
  {
    name: 'constructor / prototype keys at header level',
    record: fromJson(
      goldenJson().replace('{', '{"constructor":{"prototype":{"polluted":true}},"prototype":1,'),
    ),
    expect: { document: (m) => expect(m.FBillNo).toBe('CT2026112800012') },
  },
  {
    name: '__proto__ in a line carrying spec_no',
    record: fromJson(
      goldenJson().replace('"spec_no":"FH-L"', '"__proto__":{"spec_no":"EVIL","polluted":true}'),
    ),
    expect: err('missing_required', 'FPURMRBENTRY[1].FMATERIALID'),
  },
  {
    name: 'constructor in a line',
    record: fromJson(
      goldenJson().replace(
        '"spec_no":"FH-L"',
        '"spec_no":"FH-L","constructor":{"prototype":{"polluted":true}}',
      ),
    ),
    expect: {
      document: (m) =>
        expect((m.FPURMRBENTRY as Rec[])[1]).toEqual(
          expect.objectContaining({ FMATERIALID: { FNumber: 'FH-L' } }),
        ),
    },
  },
  {
    name: 'order_no only inherited through the prototype chain',
    record: () => {
      const { order_no, ...rest } = golden();
      return Object.assign(Object.create({ order_no }) as Rec, rest);
    },
    expect: err('missing_required', 'FBillNo'),
  },

  // --- noise that must not matter
  {
    name: 'unknown extra fields and deep nesting elsewhere',
    record: withHeader({ junk: [[[[{ a: [[[]]] }]]]], x: { y: { z: null } } }),
    expect: { document: (m) => expect(Object.keys(m)).not.toContain('junk') },
  },
  {
    name: 'both details_list and detail_list: details_list wins',
    record: withHeader({ detail_list: [{ spec_no: 'OTHER', goods_count: '9' }] }),
    expect: { document: (m) => expect(m.FPURMRBENTRY).toHaveLength(2) },
  },
];

async function outcome(mapping: CompiledMapping, record: unknown): Promise<MapResult | MappingError> {
  try {
    return await mapping.map(record);
  } catch (e) {
    if (e instanceof MappingError) return e;
    throw new Error(`not a MappingError: ${String(e)}`);
  }
}

describe('malformed records against the shipped scheme', () => {
  const mapping = compileScheme(shippedScheme());

  it('has at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await outcome(mapping, c.record());
    const e = c.expect;
    if ('error' in e) {
      if (!(result instanceof MappingError))
        throw new Error(`expected ${e.error}, got ${JSON.stringify(result)}`);
      expect(MAPPING_ERROR_CODES).toContain(result.code);
      expect({ code: result.code, field: result.field }).toEqual({ code: e.error, field: e.field });
      expect(result.message.startsWith(`${e.field}: `)).toBe(true);
      if (e.message) expect(result.message).toMatch(e.message);
      // Messages stay short even for huge values.
      expect(result.message.length).toBeLessThan(300);
    } else if ('skip' in e) {
      if (result instanceof MappingError) throw new Error(`expected a skip, got ${result.message}`);
      expect(result).toMatchObject({ outcome: 'skipped', precondition: e.skip });
      if (result.outcome === 'skipped') expect(result.reason.length).toBeGreaterThan(0);
    } else {
      if (result instanceof MappingError || result.outcome !== 'document') {
        throw new Error(
          `expected a document, got ${result instanceof MappingError ? result.message : JSON.stringify(result)}`,
        );
      }
      e.document(result.model);
    }
  });

  it('mapSync agrees with map on every case', async () => {
    for (const c of cases) {
      const asyncResult = await outcome(mapping, c.record());
      let syncResult: MapResult | MappingError;
      try {
        syncResult = mapping.mapSync(c.record());
      } catch (e) {
        if (!(e instanceof MappingError)) throw e;
        syncResult = e;
      }
      expect(syncResult instanceof MappingError ? syncResult.toJSON() : syncResult).toEqual(
        asyncResult instanceof MappingError ? asyncResult.toJSON() : asyncResult,
      );
    }
  });

  it('errors carry the bill key once it is known', async () => {
    const e = await outcome(mapping, withLine({ goods_count: 'abc' })());
    expect(e).toBeInstanceOf(MappingError);
    expect((e as MappingError).toJSON()).toEqual({
      code: 'bad_decimal',
      field: 'FPURMRBENTRY[1].FRMREALQTY',
      source: 'details_list[1].goods_count',
      billKey: 'CT2026112800012',
      message:
        'FPURMRBENTRY[1].FRMREALQTY: details_list[1].goods_count "abc" is not a plain decimal number like "2.0000"',
    });
  });

  it('never puts personal data into messages', async () => {
    const m = mappingFromYaml(
      [
        'id: pii-test',
        'name: pii',
        'source: { system: wdt, method: wdt.stockout.order.query.return }',
        'target: { system: kingdee, formId: PUR_MRB, idempotencyKey: { field: FBillNo, source: "{{order_no}}" } }',
        'mapping:',
        '  header:',
        '    FBillNo: { template: "{{order_no}}" }',
        '    FReceiver: { template: "{{receiver_mobile}}", type: decimal }',
      ].join('\n'),
    );
    const e = await outcome(m, { ...golden(), receiver_mobile: '138-0000-0000' });
    expect(e).toBeInstanceOf(MappingError);
    expect((e as MappingError).message).toContain('<redacted>');
    expect((e as MappingError).message).not.toContain('138');
  });
});

describe('prototype pollution', () => {
  const hostile = [
    '{"__proto__":{"polluted":"yes"},"order_no":"P1","status":"110","consign_time":"2026-11-28 01:30:00","provider_no":"G","warehouse_no":"W","details_list":[{"__proto__":{"polluted":"yes"},"spec_no":"S","goods_count":"1"}]}',
    '{"constructor":{"prototype":{"polluted":"yes"}},"order_no":"P2","status":"110","consign_time":"2026-11-28 01:30:00","provider_no":"G","warehouse_no":"W","details_list":[{"constructor":{"prototype":{"polluted":"yes"}},"spec_no":"S","goods_count":"1"}]}',
    '{"prototype":{"polluted":"yes"},"order_no":"P3","status":"110","consign_time":"2026-11-28 01:30:00","provider_no":"G","warehouse_no":"W","details_list":[{"spec_no":"S","goods_count":"1","prototype":{"polluted":"yes"}}]}',
  ];
  const formulaMapping = mappingFromYaml(
    [
      'id: pollution-test',
      'name: pollution',
      'source: { system: wdt, method: wdt.stockout.order.query.return }',
      'target: { system: kingdee, formId: PUR_MRB, idempotencyKey: { field: FBillNo, source: "{{order_no}}" } }',
      'mapping:',
      '  header:',
      '    FBillNo: { template: "{{order_no}}" }',
      '    FMerged: { formula: "$merge([$, {\'x\': 1}])" }',
      '    FLookup: { formula: "$lookup($, \'__proto__\')" }',
      '    FKeys: { formula: "$join($keys($), \',\')" }',
      "    FCase: { formula: \"$case('constructor', {'a': 'b'}, 'none')\" }",
    ].join('\n'),
  );

  it('neither the shipped scheme nor formulas pollute Object.prototype', async () => {
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const mapping = compileScheme(shippedScheme());
    const results: unknown[] = [];
    for (const text of hostile) {
      results.push(await mapping.map(JSON.parse(text)));
      try {
        results.push(await formulaMapping.map(JSON.parse(text)));
      } catch (e) {
        expect(e).toBeInstanceOf(MappingError);
        results.push((e as MappingError).code);
      }
    }
    for (const c of cases) {
      try {
        await mapping.map(c.record());
      } catch {
        // outcomes are asserted above
      }
    }
    expect(({} as Rec).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    // The shipped scheme mapped all three; their models hold only scheme fields, plain prototypes.
    const docs = results.filter(
      (r): r is Extract<MapResult, { outcome: 'document' }> =>
        typeof r === 'object' &&
        r !== null &&
        (r as MapResult).outcome === 'document' &&
        'FSupplierID' in (r as { model: Rec }).model,
    );
    expect(docs).toHaveLength(3);
    for (const d of docs) {
      expect(Object.getPrototypeOf(d.model)).toBe(Object.prototype);
      expect(Object.keys(d.model)).toEqual([
        'FBillNo',
        'FDate',
        'FSupplierID',
        'FMRMODE',
        'FStockOrgId',
        'FSettleOrgId',
        'FPayOrgId',
        'FOwnerIdHead',
        'FPURMRBENTRY',
      ]);
      const line = (d.model.FPURMRBENTRY as Rec[])[0];
      expect(Object.getPrototypeOf(line)).toBe(Object.prototype);
      expect((line as { polluted?: unknown }).polluted).toBeUndefined();
    }
  });

  it('formula results built from hostile objects are refused, not copied', async () => {
    const e = await formulaMapping.map(JSON.parse(hostile[0])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MappingError);
    expect(e).toMatchObject({ code: 'bad_value', field: 'FMerged' });
  });
});
