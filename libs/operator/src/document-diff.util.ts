/** One leaf that differs between two documents; `null` stands for "absent" on that side. */
export interface FieldChange {
  /** `FEntity[0].FRMREALQTY`, `FSupplierID.FNumber`. */
  path: string;
  loaded: unknown;
  current: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * The leaves in which two Kingdee documents differ (what changed in WDT after the bill was loaded),
 * in document order: objects by key, arrays by index (an added or removed entry line is one change
 * at its index, holding the whole line).
 */
export function diffDocuments(loaded: unknown, current: unknown, path = ''): FieldChange[] {
  if (isObject(loaded) && isObject(current)) {
    const keys = [...new Set([...Object.keys(loaded), ...Object.keys(current)])];
    return keys.flatMap((k) => diffDocuments(loaded[k], current[k], join(path, k)));
  }
  if (Array.isArray(loaded) && Array.isArray(current)) {
    const out: FieldChange[] = [];
    for (let i = 0; i < Math.max(loaded.length, current.length); i++)
      out.push(...diffDocuments(loaded[i], current[i], `${path}[${i}]`));
    return out;
  }
  if (sameLeaf(loaded, current)) return [];
  return [{ path: path === '' ? '$' : path, loaded: loaded ?? null, current: current ?? null }];
}

function sameLeaf(a: unknown, b: unknown): boolean {
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}
