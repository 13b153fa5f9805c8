import {
  ConversionError,
  convertValue,
  toDateTime,
  toDecimal,
  toText,
  type ConversionErrorCode,
} from './field-types.util';
import type { FieldType } from './scheme.schema';

function failure(type: FieldType, v: unknown, opts = {}): { code: ConversionErrorCode; problem: string } {
  try {
    convertValue(type, v, opts);
  } catch (e) {
    if (e instanceof ConversionError) return { code: e.code, problem: e.problem };
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(v)} to be refused as ${type}`);
}

describe('decimal', () => {
  it.each([
    ['2.0000', 2],
    ['0.5000', 0.5],
    ['-0.5', -0.5],
    ['+3', 3],
    [' 12.25 ', 12.25],
    ['0.1', 0.1],
    ['000123.4500', 123.45],
    ['999999999999999', 999999999999999],
    ['0.0000000001', 1e-10],
    ['-0.0000', 0],
    [7, 7],
    [0.25, 0.25],
  ])('%j → %j, exactly the decimal written', (input, expected) => {
    const n = toDecimal(input);
    expect(n).toBe(expected);
    expect(Object.is(n, -0)).toBe(false);
  });

  it('keeps the written decimal through JSON (no float arithmetic)', () => {
    expect(JSON.stringify({ q: toDecimal('1234567.891') })).toBe('{"q":1234567.891}');
    expect(JSON.stringify({ q: toDecimal('0.3000') })).toBe('{"q":0.3}');
  });

  it.each([
    ['abc', /not a plain decimal/],
    ['1e400', /not a plain decimal/],
    ['1e5', /not a plain decimal/],
    ['-', /not a plain decimal/],
    ['NaN', /not a plain decimal/],
    ['Infinity', /not a plain decimal/],
    ['1,000.00', /not a plain decimal/],
    ['0x10', /not a plain decimal/],
    ['.5', /not a plain decimal/],
    ['1234567890123456', /more than 15 integer digits/],
    ['1.23456789012345678', /more than 10 decimal places/],
    ['12345678.12345678', /more than 15 significant digits/],
    ['9'.repeat(100), /too long/],
    [Number.NaN, /not a finite number/],
    [1e300, /out of range/],
    [true, /a boolean, expected a decimal string/],
    [{}, /an object, expected a decimal string/],
    [[1], /an array, expected a decimal string/],
  ])('%j is refused', (input, problem) => {
    const f = failure('decimal', input);
    expect(f.code).toBe('bad_decimal');
    expect(f.problem).toMatch(problem);
  });

  it('positive: zero and negatives are refused', () => {
    expect(failure('decimal', '0.0000', { positive: true }).problem).toMatch(/greater than 0/);
    expect(failure('decimal', '-1', { positive: true }).problem).toMatch(/greater than 0/);
    expect(convertValue('decimal', '0.0001', { positive: true })).toBe(0.0001);
  });
});

describe('integer', () => {
  it('accepts integers written as decimals with a zero fraction', () => {
    expect(convertValue('integer', '12.0000')).toBe(12);
    expect(convertValue('integer', 12)).toBe(12);
  });
  it.each(['12.5', 'x', '99999999999999999999'])('refuses %j', (v) => {
    expect(failure('integer', v).code).toBe('bad_integer');
  });
});

describe('date and datetime (Shanghai wall clock, no zone shift)', () => {
  it('keeps canonical datetimes as they are', () => {
    expect(toDateTime('2026-11-28 01:30:00')).toBe('2026-11-28 01:30:00');
  });
  it('normalises other accepted forms', () => {
    expect(convertValue('datetime', '2026-11-28T01:30')).toBe('2026-11-28 01:30:00');
    expect(convertValue('datetime', '2026-11-28')).toBe('2026-11-28 00:00:00');
    expect(convertValue('date', '2026-11-28 23:59:59')).toBe('2026-11-28');
    expect(convertValue('date', '2026-11-28 00:00:01')).toBe('2026-11-28');
  });
  it("treats WDT's zero date as empty", () => {
    expect(convertValue('datetime', '0000-00-00 00:00:00')).toBeUndefined();
    expect(convertValue('date', '0000-00-00')).toBeUndefined();
  });
  it.each(['2026-02-30 00:00:00', '2026-11-28 24:00:00', '28/11/2026', 'yesterday', '2026-11-28 01:30:00Z'])(
    'refuses %j',
    (v) => {
      expect(failure('datetime', v).code).toBe('bad_date');
    },
  );
  it('refuses numbers (epoch values must be formatted by a formula)', () => {
    expect(failure('date', 1764264600000).problem).toMatch(/a number, expected date text/);
  });
});

describe('string and ref text', () => {
  it('accepts strings, finite numbers and booleans', () => {
    expect(toText('旺店通')).toBe('旺店通');
    expect(toText(101)).toBe('101');
    expect(toText(2.5)).toBe('2.5');
    expect(toText(true)).toBe('true');
    expect(toText('emoji 😀 ok')).toBe('emoji 😀 ok');
    expect(toText('tab\tand\nnewline')).toBe('tab\tand\nnewline');
  });
  it.each([
    ['lone high \ud800 surrogate', 'bad_encoding'],
    ['lone low \udc00 surrogate', 'bad_encoding'],
    ['replacement \ufffd char', 'bad_encoding'],
    ['nul \u0000 char', 'bad_encoding'],
    ['x'.repeat(2001), 'value_too_long'],
  ])('refuses %j', (v, code) => {
    expect(failure('string', v).code).toBe(code);
  });
  it('refuses non-scalars and integers that already lost digits', () => {
    expect(failure('ref', { a: 1 }).problem).toMatch(/an object, expected text/);
    expect(failure('ref', [1]).problem).toMatch(/an array, expected text/);
    expect(failure('string', 2 ** 60).problem).toMatch(/beyond 2\^53/);
  });
  it('honours maxLength', () => {
    expect(failure('string', 'abcdef', { maxLength: 5 }).problem).toMatch(/6 characters long \(at most 5/);
  });
});

describe('boolean', () => {
  it.each([
    [true, true],
    ['true', true],
    ['1', true],
    [1, true],
    [false, false],
    ['false', false],
    ['0', false],
    [0, false],
  ])('%j → %j', (v, b) => expect(convertValue('boolean', v)).toBe(b));
  it('refuses anything else', () => expect(failure('boolean', 'yes').code).toBe('bad_boolean'));
});
