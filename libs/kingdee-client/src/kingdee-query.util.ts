import type { KingdeeApi } from './kingdee-api';
import type { KingdeeQueryRow } from './kingdee.types';
import { buildBillNoFilter } from './kingdee-filter.util';

export interface FindByFieldRequest {
  formId: string;
  /** The idempotency field, e.g. `FBillNo` or `F_XXX_SourceNo`. */
  field: string;
  values: readonly string[];
  /** Keys to return (default `FID,FBillNo,FDocumentStatus` plus `field`). */
  fieldKeys?: string[];
  /** Values per query (default 100). */
  chunkSize?: number;
  /** Rows per page (default 2000, the old servers' maximum). */
  pageSize?: number;
  signal?: AbortSignal;
}

/**
 * Looks bills up by an idempotency field: chunks the values into `field in (…)` filters and pages each
 * query with StartRow/Limit. Returns objects keyed by field key.
 */
export async function findBillsByField(
  api: KingdeeApi,
  request: FindByFieldRequest,
): Promise<KingdeeQueryRow[]> {
  const keys = request.fieldKeys ?? [...new Set(['FID', 'FBillNo', 'FDocumentStatus', request.field])];
  const chunkSize = Math.max(1, request.chunkSize ?? 100);
  const pageSize = Math.max(1, request.pageSize ?? 2000);
  const unique = [...new Set(request.values)];
  const out: KingdeeQueryRow[] = [];
  for (let i = 0; i < unique.length; i += chunkSize) {
    const filter = buildBillNoFilter(request.field, unique.slice(i, i + chunkSize));
    for (let start = 0; ; start += pageSize) {
      const rows = await api.executeBillQueryObjects(
        {
          FormId: request.formId,
          FieldKeys: keys,
          FilterString: filter,
          StartRow: start,
          Limit: pageSize,
          OrderString: 'FID ASC',
        },
        request.signal,
      );
      out.push(...rows);
      if (rows.length < pageSize) break;
    }
  }
  return out;
}
