// The orders page's filters as query parameters, shared by the list call and the export links.
export interface OrderFilters {
  q?: string;
  status?: string;
  schemeId?: string;
  from?: string;
  to?: string;
}

export function orderFilterQuery(filters: OrderFilters): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of ['q', 'status', 'schemeId', 'from', 'to'] as const) {
    const value = filters[key]?.trim();
    if (value) query[key] = value;
  }
  return query;
}

/** `/api/audit/orders/export?format=xlsx&status=failed…` — a plain link: the cookie authorises it. */
export function buildExportUrl(format: 'csv' | 'xlsx', filters: OrderFilters): string {
  const params = new URLSearchParams({ format, ...orderFilterQuery(filters) });
  return `/api/audit/orders/export?${params.toString()}`;
}
