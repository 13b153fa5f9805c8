import { FORMULA_HELPER_NAMES } from '@libs/scheme';
import { compileFormula, DEFAULT_FORMULA_LIMITS, FORMULA_FUNCTIONS } from './formula-functions.util';

// The evaluation time guard is wall-clock (jsonata's `timeout`); these tests are about the helpers'
// results, so a GC pause of a busy CI machine must not fail them: a generous guard here.
const run = (expr: string, input: unknown = {}, bindings?: Record<string, unknown>) =>
  compileFormula(expr, { ...DEFAULT_FORMULA_LIMITS, timeoutMs: 10_000 }).evaluate(input, bindings);

describe('formula helpers', () => {
  it('implements exactly the helpers the scheme validator knows', () => {
    expect(Object.keys(FORMULA_FUNCTIONS).sort()).toEqual([...FORMULA_HELPER_NAMES].sort());
  });

  it('$decimal: canonical text, rounding half-up', async () => {
    expect(await run('$decimal("2.0000")')).toBe('2');
    expect(await run('$decimal("0.125", 2)')).toBe('0.13');
    expect(await run('$decimal("-0.125", 2)')).toBe('-0.13');
    expect(await run('$decimal(1.005, 2)')).toBe('1.01');
    expect(await run('$decimal(missing)')).toBeUndefined();
    await expect(run('$decimal("abc")')).rejects.toThrow(/\$decimal: "abc" is not a decimal number/);
    await expect(run('$decimal("1", 99)')).rejects.toThrow(/places must be an integer/);
  });

  it('$sum: exact decimal sum of strings and numbers (0.1 + 0.2 = 0.3)', async () => {
    expect(await run('$sum(["0.1", "0.2"])')).toBe(0.3);
    expect(await run('0.1 + 0.2')).not.toBe(0.3);
    expect(await run('$sum([1, "2.5000", 3])')).toBe(6.5);
    expect(await run('$sum(a.q)', { a: [{ q: '1.1' }, { q: '2.2' }] })).toBe(3.3);
    expect(await run('$sum("4")')).toBe(4);
    expect(await run('$sum(missing)')).toBeUndefined();
    await expect(run('$sum(["1", "x"])')).rejects.toThrow(/\$sum: "x" is not a decimal number/);
  });

  it('$dadd / $dsub / $dmul / $ddiv', async () => {
    expect(await run('$dadd("0.1", "0.2")')).toBe('0.3');
    expect(await run('$dsub("1", "0.9")')).toBe('0.1');
    expect(await run('$dmul("2.5000", "19.9000")')).toBe('49.75');
    expect(await run('$ddiv("10", "3")')).toBe('3.3333333333');
    expect(await run('$ddiv("10", "3", 2)')).toBe('3.33');
    expect(await run('$ddiv("2", "3", 0)')).toBe('1');
    await expect(run('$ddiv("1", "0")')).rejects.toThrow(/division by zero/);
    expect(await run('$dmul(missing, 2)')).toBeUndefined();
  });

  it('$shanghaiDate / $shanghaiDateTime / $shanghaiMillis use the Shanghai wall clock', async () => {
    expect(await run('$shanghaiMillis("2026-11-28 08:00:00")')).toBe(Date.UTC(2026, 10, 28, 0, 0, 0));
    expect(await run('$shanghaiDate($shanghaiMillis("2026-11-28 23:30:00") + 3600000)')).toBe('2026-11-29');
    expect(await run('$shanghaiDateTime("2026-11-28T01:30")')).toBe('2026-11-28 01:30:00');
    expect(await run('$shanghaiDate(0)')).toBe('1970-01-01');
    await expect(run('$shanghaiDate("28/11/2026")')).rejects.toThrow(/not a Shanghai wall-clock time/);
    await expect(run('$shanghaiMillis(5)')).rejects.toThrow(/expects Shanghai wall-clock text/);
  });

  it('$case: value lookup with a default, own keys only', async () => {
    expect(await run('$case("95", {"95": "shipped", "110": "completed"}, "other")')).toBe('shipped');
    expect(await run('$case(110, {"95": "shipped", "110": "completed"})')).toBe('completed');
    expect(await run('$case("5", {"95": "shipped"}, "other")')).toBe('other');
    expect(await run('$case("5", {"95": "shipped"})')).toBeUndefined();
    expect(await run('$case(missing, {"95": "shipped"}, "none")')).toBe('none');
    expect(await run('$case("toString", {"a": 1}, "none")')).toBe('none');
    expect(await run('$case("constructor", {"a": 1}, "none")')).toBe('none');
    await expect(run('$case("a", "b")')).rejects.toThrow(/second argument must be an object/);
  });

  it('$line and $lineIndex are plain bindings', async () => {
    expect(
      await run(
        '$line.spec_no & "#" & $string($lineIndex)',
        { order_no: 'X' },
        { line: { spec_no: 'S' }, lineIndex: 2 },
      ),
    ).toBe('S#2');
  });

  it('record lookups never reach inherited properties', async () => {
    expect(await run('constructor', {})).toBeUndefined();
    expect(await run('$lookup($, "toString")', {})).toBeUndefined();
  });
});
