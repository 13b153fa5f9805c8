/** Safe FilterString building for ExecuteBillQuery (SQL-like text on the server side). */

const FIELD_KEY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Quotes a text literal: `'` doubled, control characters refused. */
export function quoteFilterLiteral(value: string): string {
  if (CONTROL_CHARS.test(value)) throw new RangeError('filter value contains control characters');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Validates a field key such as `FBillNo`, `F_XXX_SourceNo` or `FSupplierID.FNumber`. */
export function assertFieldKey(field: string): string {
  if (!FIELD_KEY.test(field))
    throw new RangeError(`invalid field key: ${JSON.stringify(field.slice(0, 60))}`);
  return field;
}

/**
 * `FBillNo='a'` for one value, `FBillNo in ('a','b')` for several (duplicates removed, order kept).
 * Throws on an empty list, a bad field key or control characters in a value.
 */
export function buildBillNoFilter(field: string, values: readonly string[]): string {
  assertFieldKey(field);
  const unique = [...new Set(values)];
  if (unique.length === 0) throw new RangeError('buildBillNoFilter needs at least one value');
  if (unique.length === 1) return `${field}=${quoteFilterLiteral(unique[0])}`;
  return `${field} in (${unique.map(quoteFilterLiteral).join(',')})`;
}
