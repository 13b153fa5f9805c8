import { jsonTypeOf } from '@libs/scheme';

/**
 * Reading records safely. Only own properties are read (`Object.hasOwn`), so neither an inherited
 * value nor `__proto__` / `constructor` / `prototype` (which schemes cannot name anyway) is ever
 * walked into; the engine never copies record objects into output, only converted scalars.
 */

export type Rec = Record<string, unknown>;
export type Getter = (record: Rec, line: Rec | undefined) => unknown;

const hasOwn = Object.hasOwn;

/** A plain JSON object (not null, not an array). */
export function isRecordObject(v: unknown): v is Rec {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Own-property read; undefined for non-objects and arrays. */
export function ownGet(obj: unknown, key: string): unknown {
  return isRecordObject(obj) && hasOwn(obj, key) ? obj[key] : undefined;
}

/** Reads `segments` from `root` through own properties of plain objects only. */
export function ownGetPath(root: unknown, segments: readonly string[]): unknown {
  let cur = root;
  for (const seg of segments) {
    if (!isRecordObject(cur) || !hasOwn(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Compiles a path read into a closure (specialised for the common 1- and 2-segment paths). */
export function compilePathGetter(segments: readonly string[]): (root: Rec) => unknown {
  if (segments.length === 1) {
    const [a] = segments;
    return (r) => (hasOwn(r, a) ? r[a] : undefined);
  }
  if (segments.length === 2) {
    const [a, b] = segments;
    return (r) => {
      const x = hasOwn(r, a) ? r[a] : undefined;
      return isRecordObject(x) && hasOwn(x, b) ? x[b] : undefined;
    };
  }
  const segs = [...segments];
  return (r) => ownGetPath(r, segs);
}

/** The first own property among `names` that is present (not undefined). */
export function ownFirst(record: Rec, names: readonly string[]): unknown {
  for (const n of names) if (hasOwn(record, n) && record[n] !== undefined) return record[n];
  return undefined;
}

const SENSITIVE = /(^|_|\.)(receiver|mobile|telno|phone|address|buyer|id_card)/i;
const PREVIEW_MAX = 40;

/** A short, safe rendering of a value for messages: truncated; personal fields redacted. */
export function previewValue(v: unknown, sourcePath?: string): string {
  if (sourcePath !== undefined && SENSITIVE.test(sourcePath)) return '<redacted>';
  switch (typeof v) {
    case 'string': {
      const cut = v.length > PREVIEW_MAX ? `${v.slice(0, PREVIEW_MAX)}…` : v;
      const text = JSON.stringify(cut);
      return v.length > PREVIEW_MAX ? `${text} (${v.length} chars)` : text;
    }
    case 'number':
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'undefined';
    case 'object':
      if (v === null) return 'null';
      return Array.isArray(v) ? 'an array' : 'an object';
    default: {
      const t = jsonTypeOf(v);
      return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
    }
  }
}
