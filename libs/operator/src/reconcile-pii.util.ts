/**
 * A differing field a scheme marks as personal data (`pii: true`, e.g. a receiver name mapped into
 * FDESCRIPTION) shows neither value to operators: a finding says which field differs, not what.
 */
export function maskDifferences<T extends { field: string; expected: string | null; actual: string | null }>(
  differences: readonly T[],
  piiFields: ReadonlySet<string>,
): T[] {
  return differences.map((d) => {
    // `FPURMRBENTRY[2].FNOTE` → `FNOTE`
    const leaf = d.field
      .split('.')
      .at(-1)!
      .replace(/\[\d+\]$/, '');
    if (!piiFields.has(leaf)) return d;
    return { ...d, expected: d.expected === null ? null : '***', actual: d.actual === null ? null : '***' };
  });
}
