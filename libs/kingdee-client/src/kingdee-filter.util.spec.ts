import { assertFieldKey, buildBillNoFilter, quoteFilterLiteral } from './kingdee-filter.util';

describe('buildBillNoFilter', () => {
  it('uses = for one value and in (...) for several', () => {
    expect(buildBillNoFilter('FBillNo', ['CT1'])).toBe("FBillNo='CT1'");
    expect(buildBillNoFilter('FBillNo', ['a', 'b'])).toBe("FBillNo in ('a','b')");
  });

  it('doubles single quotes so a value cannot end the literal', () => {
    expect(buildBillNoFilter('F_XXX_SourceNo', ["x' or '1'='1", 'y'])).toBe(
      "F_XXX_SourceNo in ('x'' or ''1''=''1','y')",
    );
  });

  it('removes duplicates, keeps order', () => {
    expect(buildBillNoFilter('FBillNo', ['b', 'a', 'b'])).toBe("FBillNo in ('b','a')");
  });

  it('rejects empty lists, bad field keys and control characters', () => {
    expect(() => buildBillNoFilter('FBillNo', [])).toThrow(RangeError);
    expect(() => buildBillNoFilter("FBillNo='x' or 1=1 --", ['a'])).toThrow(RangeError);
    expect(() => buildBillNoFilter('FBillNo', ['a\nb'])).toThrow(RangeError);
    expect(() => quoteFilterLiteral('\u0000')).toThrow(RangeError);
  });

  it('accepts sub-field keys', () => {
    expect(assertFieldKey('FSupplierID.FNumber')).toBe('FSupplierID.FNumber');
  });
});
