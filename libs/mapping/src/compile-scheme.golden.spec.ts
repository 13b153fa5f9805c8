import { buildRequest } from './build-request.util';
import { compileScheme } from './compile-scheme.util';
import {
  fixtureJson,
  fixtureText,
  goldenRecord,
  shippedMapping,
  shippedScheme,
} from '../../../test/support/mapping/mapping-fixtures.util';

describe('the golden case of seed-mapping.md', () => {
  const expectedText = fixtureText('golden-request.verbatim.txt');

  it('is reproduced exactly: deep-equal and in the same key order', async () => {
    const mapping = shippedMapping();
    const result = await mapping.map(goldenRecord());
    expect(result).toMatchObject({ outcome: 'document', billKey: 'CT2026112800012' });
    if (result.outcome !== 'document') throw new Error('unreachable');
    const request = buildRequest(mapping.scheme, [result.model]);
    const expected = JSON.parse(expectedText) as unknown;
    expect(request).toEqual(expected);
    expect(JSON.stringify(request)).toBe(JSON.stringify(expected));
  });

  it('mapSync gives the same result, and the shipped scheme never needs JSONata', () => {
    const mapping = shippedMapping();
    expect(mapping.usesFormulas).toBe(false);
    const result = mapping.mapSync(goldenRecord());
    if (result.outcome !== 'document') throw new Error('expected a document');
    expect(JSON.stringify(buildRequest(mapping.scheme, [result.model]))).toBe(
      JSON.stringify(JSON.parse(expectedText)),
    );
  });

  it('does not modify the record', () => {
    const record = goldenRecord();
    const before = JSON.stringify(record);
    shippedMapping().mapSync(record);
    expect(JSON.stringify(record)).toBe(before);
  });

  it('outputs fresh objects per record (no shared constants between models)', () => {
    const mapping = shippedMapping();
    const a = mapping.mapSync(goldenRecord());
    const b = mapping.mapSync(goldenRecord());
    if (a.outcome !== 'document' || b.outcome !== 'document') throw new Error('expected documents');
    expect(a.model.FStockOrgId).toEqual(b.model.FStockOrgId);
    expect(a.model.FStockOrgId).not.toBe(b.model.FStockOrgId);
  });
});

describe('a realistic WDT record with every response field', () => {
  it('maps to the expected PUR_MRB model (Chinese text, several lines, decimals)', async () => {
    const record = fixtureJson('wdt-stockout-return.full.json');
    const expected = fixtureJson('wdt-stockout-return.full.expected-model.json');
    const result = await shippedMapping().map(record);
    expect(result).toEqual({ outcome: 'document', billKey: 'CT2026112800087', model: expected });
    if (result.outcome === 'document') expect(JSON.stringify(result.model)).toBe(JSON.stringify(expected));
  });

  it('maps a Qimen-style record (numbers instead of strings, lines under detail_list) the same way', async () => {
    const record = fixtureJson('wdt-stockout-return.full.json');
    const lines = record.details_list as Array<Record<string, unknown>>;
    delete record.details_list;
    record.detail_list = lines.map((l) => ({ ...l, goods_count: Number(l.goods_count) }));
    record.status = 95;
    const expected = fixtureJson('wdt-stockout-return.full.expected-model.json');
    expect(await shippedMapping().map(record)).toEqual({
      outcome: 'document',
      billKey: 'CT2026112800087',
      model: expected,
    });
  });

  it('a compiled scheme can be compiled again from the same object (compile is pure)', () => {
    const scheme = shippedScheme();
    const a = compileScheme(scheme).mapSync(goldenRecord());
    const b = compileScheme(scheme).mapSync(goldenRecord());
    expect(a).toEqual(b);
  });
});
