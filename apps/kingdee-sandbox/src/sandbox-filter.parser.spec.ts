import { evaluateFilter, FilterSyntaxError, filterFields, parseFilter } from './sandbox-filter.parser';

const row: Record<string, unknown> = { FBILLNO: "O'Brien-1", FDESCRIPTION: null, FQTY: 2, FSTATUS: 'C' };
const value = (key: string): unknown => row[key.toUpperCase()];
const matches = (filter: string): boolean => evaluateFilter(parseFilter(filter), value);

describe('FilterString parser', () => {
  it('handles =, in, like, is null, and/or/not, parentheses and escaped quotes', () => {
    expect(matches("FBillNo='O''Brien-1'")).toBe(true);
    expect(matches("fbillno = N'o''brien-1'")).toBe(true); // CI comparison, N'' literal
    expect(matches("FBillNo in ('x','O''Brien-1')")).toBe(true);
    expect(matches("FBillNo not in ('O''Brien-1')")).toBe(false);
    expect(matches("FBillNo like 'O%-_'")).toBe(true);
    expect(matches('FDESCRIPTION is null and FQty >= 2')).toBe(true);
    expect(matches("FDESCRIPTION = 'x' or (FQty > 1 and not FStatus <> 'C')")).toBe(true);
    expect(matches('')).toBe(true);
    expect(matches('1=0')).toBe(false);
  });

  it('uses three-valued logic for nulls', () => {
    expect(matches("FDESCRIPTION <> 'x'")).toBe(false);
    expect(matches("not FDESCRIPTION = 'x'")).toBe(false);
  });

  it('lists referenced fields', () => {
    expect(filterFields(parseFilter("A=1 and (B in ('x') or C.FNumber like 'y')"))).toEqual([
      'A',
      'B',
      'C.FNumber',
    ]);
  });

  it('rejects malformed filters', () => {
    for (const bad of ["FBillNo='x", 'FBillNo =', "FBillNo in 'a'", 'FBillNo ; drop table', "(FBillNo='a'"]) {
      expect(() => parseFilter(bad)).toThrow(FilterSyntaxError);
    }
  });
});
