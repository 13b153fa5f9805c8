import { fieldTargetPath, type FieldSpec, type FieldType, type Scheme } from '@libs/scheme';
import type { ComparableEntry, ComparableField, CompareKind, ComparisonPlan } from './reconcile.types';

/** Bill meta fields every query reads (Kingdee's own names). */
export const META_QUERY_KEYS = ['FID', 'FBillNo', 'FDocumentStatus'] as const;

const COMPARE_BY_TYPE: Readonly<Record<FieldType, CompareKind>> = {
  string: 'text',
  ref: 'ref',
  decimal: 'decimal',
  integer: 'decimal',
  // Kingdee stores dates with its own time part (FDate comes back as `yyyy-MM-ddT00:00:00`).
  date: 'day',
  datetime: 'day',
  boolean: 'boolean',
};

/**
 * The query key reading a model path back. ExecuteBillQuery names a field by its own key whatever
 * entity holds it (sub-entity `FPURMRBFIN.FSettleOrgId` → `FSettleOrgId`, entry fields unprefixed),
 * and a base-data field by `<key>.FNumber` (the bare key gives the internal id).
 */
function queryKeyOf(segments: readonly string[], type: FieldType, refKey: string): string {
  const own = segments[segments.length - 1];
  return type === 'ref' ? `${own}.${refKey}` : own;
}

function comparable(name: string, spec: FieldSpec, refKey: string): ComparableField {
  const segments = fieldTargetPath(name, spec);
  return {
    path: segments.join('.'),
    queryKey: queryKeyOf(segments, spec.type, refKey),
    type: spec.type,
    compare: COMPARE_BY_TYPE[spec.type],
  };
}

/**
 * The fields of a scheme a reconciliation compares, and the ExecuteBillQuery FieldKeys reading them:
 * every header and entry field the mapping writes, except the idempotency field (the merge's key,
 * equal by construction) and Kingdee's meta fields (FID, FBillNo, FDocumentStatus, read separately).
 */
export function comparisonPlan(scheme: Scheme): ComparisonPlan {
  const refKey = scheme.target.refKey;
  const keyField = scheme.target.idempotencyKey.field;
  const keySegments = keyField.split('.');
  const keyQueryKey = keySegments[keySegments.length - 1];
  const meta = new Set<string>(META_QUERY_KEYS.map((k) => k.toUpperCase()));
  const skip = (f: ComparableField): boolean => f.path === keyField || meta.has(f.queryKey.toUpperCase());

  const header = Object.entries(scheme.mapping.header)
    .map(([name, spec]) => comparable(name, spec, refKey))
    .filter((f) => !skip(f));
  const entries: ComparableEntry[] = scheme.mapping.entries.map((entry) => {
    const segments = entry.path.split('.');
    return {
      path: entry.path,
      entryIdKey: `${segments[segments.length - 1]}_FEntryID`,
      fields: Object.entries(entry.fields).map(([name, spec]) => comparable(name, spec, refKey)),
    };
  });

  const fieldKeys: string[] = [];
  const seen = new Set<string>();
  const add = (k: string): void => {
    if (seen.has(k.toUpperCase())) return;
    seen.add(k.toUpperCase());
    fieldKeys.push(k);
  };
  [...META_QUERY_KEYS, keyQueryKey].forEach(add);
  header.forEach((f) => add(f.queryKey));
  for (const e of entries) {
    add(e.entryIdKey);
    e.fields.forEach((f) => add(f.queryKey));
  }

  // As the loader writes: `auto` audits unless IsAutoSubmitAndAudit is explicitly false.
  const audits =
    scheme.target.submitMode === 'separate' || scheme.target.requestOptions.IsAutoSubmitAndAudit !== false;
  return {
    formId: scheme.target.formId,
    keyField,
    keyQueryKey,
    header,
    entries,
    expectedStatus: audits ? 'C' : null,
    fieldKeys,
  };
}
