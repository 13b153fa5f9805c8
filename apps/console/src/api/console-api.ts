// Typed calls of the console: generated types (openapi-fetch) where docs/openapi.json has the
// endpoint, the hand-written shapes of console-types.ts where it does not yet.
import { api, call, unwrap } from './http';
import type {
  Action,
  AuditOrderDetail,
  Connection,
  ConnectionTest,
  FailureGroup,
  OrdersPage,
  Overview,
  Preview,
  RangeRequest,
  ReconcileFinding,
  ReconcileRun,
  SchemeFile,
  SchemeReconciliation,
  SchemeListItem,
  SchemeRevision,
  SchemeValidation,
  Session,
} from './console-types';

export const sessionApi = {
  get: async () => (await call<Session>('GET', '/api/session')).data,
  signIn: async (token: string) => (await call<Session>('POST', '/api/session', { body: { token } })).data,
  signOut: async () => {
    await call<null>('DELETE', '/api/session');
  },
};

export const readApi = {
  overview: async (query: { from?: string; to?: string; schemeId?: string; bucket?: string }) =>
    (await call<Overview>('GET', '/api/overview', { query })).data,
  failureGroups: async (query: { schemeId?: string; status?: string } = {}) =>
    (await call<{ items: FailureGroup[] }>('GET', '/api/failure-groups', { query })).data.items,
  orders: async (query: Record<string, string | number | undefined>) =>
    (await call<OrdersPage>('GET', '/api/audit/orders', { query })).data,
  order: async (orderNo: string) =>
    unwrap(
      await api.GET('/api/audit/orders/{orderNo}', {
        params: { path: { orderNo }, query: { limit: 200 } },
      }),
    ) as AuditOrderDetail,
  schemes: async () => unwrap(await api.GET('/api/schemes')).items as SchemeListItem[],
  actions: async (query: { limit?: number; offset?: number; action?: string }) =>
    unwrap(await api.GET('/api/actions', { params: { query } })) as {
      items: Action[];
      nextOffset: number | null;
      offset: number;
      limit: number;
    },
  waiting: async () => unwrap(await api.GET('/api/base-data/waiting')),
};

export const repairApi = {
  repushOrders: async (orderNos: string[], schemeId?: string) =>
    unwrap(await api.POST('/api/repush', { body: { orderNos, ...(schemeId ? { schemeId } : {}) } })),
  close: async (orderNo: string, schemeId: string, reason: string) =>
    unwrap(
      await api.POST('/api/audit/orders/{orderNo}/close', {
        params: { path: { orderNo } },
        body: { schemeId, reason },
      }),
    ),
  resync: async (schemeId: string, orderNos: string[]) =>
    unwrap(await api.POST('/api/resync', { body: { schemeId, orderNos } })),
  checkBaseData: async () => unwrap(await api.POST('/api/base-data/check')),
  replay: async (body: { schemeId?: string; stage: 'transform' | 'load'; from: string; to: string }) =>
    (await call<RangeRequest>('POST', '/api/replays', { body })).data,
  backfill: async (body: { schemeId: string; from: string; to: string; force?: boolean }) =>
    (await call<RangeRequest>('POST', '/api/backfills', { body })).data,
  rangeRequest: async (id: string) =>
    (await call<RangeRequest>('GET', `/api/range-requests/${encodeURIComponent(id)}`)).data,
  rangeRequests: async (query: { kind?: string; state?: string } = {}) =>
    (await call<{ items: RangeRequest[] }>('GET', '/api/range-requests', { query })).data.items,
  cancelRangeRequest: async (id: string) =>
    (await call<RangeRequest>('POST', `/api/range-requests/${encodeURIComponent(id)}/cancel`)).data,
};

const runPath = (id: string) => `/api/reconciliations/${encodeURIComponent(id)}`;

export const reconcileApi = {
  latest: async () =>
    (await call<{ items: SchemeReconciliation[] }>('GET', '/api/reconciliations')).data.items,
  request: async (body: { schemeId: string; from: string; to: string }) =>
    (await call<ReconcileRun>('POST', '/api/reconciliations', { body })).data,
  run: async (id: string) => (await call<ReconcileRun>('GET', runPath(id))).data,
  cancel: async (id: string) => (await call<ReconcileRun>('POST', `${runPath(id)}/cancel`)).data,
  findings: async (id: string, query: { kind?: string; q?: string; limit?: number; offset?: number }) =>
    (
      await call<{ items: ReconcileFinding[]; total: number; nextOffset: number | null }>(
        'GET',
        `${runPath(id)}/findings`,
        { query },
      )
    ).data,
  repush: async (id: string, body: { kinds?: string[]; keys?: string[] }) =>
    (
      await call<{ requested: number; notRequested: Array<{ key: string; kind: string; reason: string }> }>(
        'POST',
        `${runPath(id)}/repush`,
        { body },
      )
    ).data,
  /** A plain link: the session cookie authorises the download. */
  exportUrl: (id: string, format: 'xlsx' | 'csv') => `${runPath(id)}/export?format=${format}`,
};

const schemePath = (id: string) => `/api/schemes/${encodeURIComponent(id)}`;

export const schemeApi = {
  pause: async (id: string, reason: string) =>
    unwrap(await api.POST('/api/schemes/{id}/pause', { params: { path: { id } }, body: { reason } })),
  resume: async (id: string, reason: string) =>
    unwrap(await api.POST('/api/schemes/{id}/resume', { params: { path: { id } }, body: { reason } })),
  file: async (id: string) => (await call<SchemeFile>('GET', `${schemePath(id)}/file`)).data,
  validate: async (yaml: string) =>
    (await call<SchemeValidation>('POST', '/api/schemes/validate', { body: { yaml } })).data,
  save: async (id: string, yaml: string, etag: string, comment?: string) =>
    (
      await call<{ etag: string; revision: number }>('PUT', `${schemePath(id)}/file`, {
        body: { yaml, ...(comment ? { comment } : {}) },
        headers: { 'If-Match': etag },
      })
    ).data,
  revisions: async (id: string) =>
    (await call<{ items: SchemeRevision[] }>('GET', `${schemePath(id)}/revisions`)).data.items,
  rollback: async (id: string, revision: number, etag: string) =>
    (
      await call<{ etag: string; revision: number }>(
        'POST',
        `${schemePath(id)}/revisions/${revision}/rollback`,
        {
          headers: { 'If-Match': etag },
        },
      )
    ).data,
  preview: async (body: { schemeId: string; orderNo?: string; record?: unknown; schemeYaml?: string }) =>
    (await call<Preview>('POST', '/api/previews', { body })).data,
  previewState: async (id: string) =>
    (await call<Preview>('GET', `/api/previews/${encodeURIComponent(id)}`)).data,
};

export const connectionsApi = {
  list: async () => unwrap(await api.GET('/api/connections')).items as Connection[],
  /** Waits (up to ~20 s on the server) for the extractor or loader to answer; 202: still queued. */
  test: async (kind: 'wdt' | 'kingdee', name: string) =>
    unwrap(
      await api.POST('/api/connections/{kind}/{name}/test', { params: { path: { kind, name } } }),
    ) as ConnectionTest,
  getTest: async (id: string) =>
    unwrap(await api.GET('/api/connections/tests/{id}', { params: { path: { id } } })) as ConnectionTest,
};
