import { z } from 'zod';
import { OperatorRole } from '@libs/config';
import {
  ActionsQuery,
  ActionView,
  AuditOrderDetailView,
  AuditOrderQuery,
  AuditOrderView,
  AuditStatsQuery,
  BaseDataCheckView,
  BaseDataWaitingView,
  CloseDeadLetterBody,
  CloseOrderBody,
  DeadLetterDetailView,
  LinkBillBody,
  DeadLettersQuery,
  DeadLetterView,
  ErrorView,
  IdParams,
  OrderNoParams,
  PageQuery,
  pageOf,
  PauseBody,
  PauseView,
  RepushBody,
  RepushView,
  ResyncBody,
  ResyncCreatedView,
  ResyncListQuery,
  ResyncRequestView,
  RevealQuery,
  SchemeIdParams,
  SchemesView,
  StatsView,
} from './operator-api.schema';
import {
  CONSOLE_READ_COMPONENTS,
  CONSOLE_READ_ROUTES,
  ConsoleAuditOrderDetailView,
  ConsoleOrdersQuery,
  ConsoleOrdersPageView,
} from './console-read.schema';
import { PII_FIELDS } from './pii-mask.util';
import { SCHEME_EDITING_COMPONENTS, SCHEME_EDITING_ROUTES } from './scheme-editing.schema';
import { SESSION_COMPONENTS, SESSION_ROUTES } from './session.schema';
import { WORK_REQUEST_COMPONENTS, WORK_REQUEST_ROUTES } from './work-requests.schema';
import { RECONCILE_COMPONENTS, RECONCILE_ROUTES } from './reconciliations.schema';
import { CONNECTION_COMPONENTS, CONNECTION_ROUTES } from './connections.schema';

/** One route of the operator API, as documented. Controllers implement exactly these. */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express-style path (`/api/dead-letters/:id`). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Default true when there is a body. */
  bodyRequired?: boolean;
  /** Success status and body (JSON unless `contentType`). */
  status: number;
  response?: z.ZodType;
  contentType?: string;
  responseDescription: string;
  errors?: number[];
  /** No token or session needed. */
  public?: boolean;
  /**
   * The least role the route needs (viewer < operator < admin); every route but public ones has one,
   * equal to its handler's `@RequireRole` (a test checks both).
   */
  role?: OperatorRole;
}

export const OPERATOR_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/audit/orders/:orderNo',
    operationId: 'getAuditOrder',
    tag: 'audit',
    summary: "An order's audit rows (one per scheme) and its history, newest first",
    description:
      'limit/offset page the history. Also lists the dead letters and resync requests of the order.',
    params: OrderNoParams,
    query: AuditOrderQuery,
    status: 200,
    response: ConsoleAuditOrderDetailView,
    responseDescription: 'The order',
    errors: [400, 404],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/audit/orders',
    operationId: 'listAuditOrders',
    tag: 'audit',
    summary:
      'Orders by status, scheme, stage, part of the order number and time (on last_occurred_at), newest first',
    query: ConsoleOrdersQuery,
    status: 200,
    response: ConsoleOrdersPageView,
    responseDescription: 'A page of orders',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/audit/stats',
    operationId: 'getAuditStats',
    tag: 'audit',
    summary: 'Orders per status, dead letters per state, pending resyncs, loader circuit, recent actions',
    query: AuditStatsQuery,
    status: 200,
    response: StatsView,
    responseDescription: 'Counts',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/dead-letters',
    operationId: 'listDeadLetters',
    tag: 'dead-letters',
    summary: 'Dead letters by state, stage, scheme, order and time, newest first (no payloads)',
    query: DeadLettersQuery,
    status: 200,
    response: pageOf(DeadLetterView),
    responseDescription: 'A page of dead letters',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/dead-letters/:id',
    operationId: 'getDeadLetter',
    tag: 'dead-letters',
    summary: 'One dead letter with its payload (inline bytes decoded, or size/hash of a Postgres payload)',
    params: IdParams,
    query: RevealQuery,
    status: 200,
    response: DeadLetterDetailView,
    responseDescription: 'The dead letter',
    errors: [400, 404],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/dead-letters/:id/payload',
    operationId: 'getDeadLetterPayload',
    tag: 'dead-letters',
    summary: 'The original bytes of a dead letter',
    description:
      'With `reveal=pii` the bytes as stored (Postgres payloads are streamed; header X-Content-SHA256). ' +
      'Otherwise JSON or text with personal data masked (header X-Payload-Masked: true); binary payloads are refused (403).',
    params: IdParams,
    query: RevealQuery,
    status: 200,
    contentType: 'application/octet-stream',
    responseDescription: 'The payload bytes',
    errors: [400, 403, 404],
    role: 'viewer',
  },
  {
    method: 'post',
    path: '/api/dead-letters/:id/close',
    operationId: 'closeDeadLetter',
    tag: 'dead-letters',
    summary: 'Close a dead letter nobody will re-push, with a reason (recorded with the token name)',
    params: IdParams,
    body: CloseDeadLetterBody,
    status: 200,
    response: z.object({ id: z.string(), state: z.literal('closed') }),
    responseDescription: 'The dead letter is closed',
    errors: [400, 404],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/audit/orders/:orderNo/close',
    operationId: 'closeOrder',
    tag: 'audit',
    summary:
      "Close an order's latest version with a reason; its bill (if any) stays; a newer version reopens it",
    params: OrderNoParams,
    body: CloseOrderBody,
    status: 200,
    response: z.object({
      schemeId: z.string(),
      orderNo: z.string(),
      status: z.literal('closed'),
      closedDeadLetters: z.number().int(),
    }),
    responseDescription: 'The order is closed',
    errors: [400, 404],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/audit/orders/:orderNo/link',
    operationId: 'linkBill',
    tag: 'audit',
    summary:
      'Link an order to a bill a person found in Kingdee: its claim records it and nobody writes it again',
    params: OrderNoParams,
    body: LinkBillBody,
    status: 200,
    response: z.object({
      schemeId: z.string(),
      orderNo: z.string(),
      bill: z.object({ state: z.literal('audited'), number: z.string() }),
    }),
    responseDescription: 'The order holds the bill',
    errors: [400, 404, 409],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/audit/orders/:orderNo/confirm-absent',
    operationId: 'confirmBillAbsent',
    tag: 'audit',
    summary:
      'Confirm no bill of the order exists in Kingdee (settling, conflict or duplicate in ERP, failed): one write is allowed and the order is read again',
    params: OrderNoParams,
    body: CloseOrderBody,
    status: 200,
    response: z.object({
      schemeId: z.string(),
      orderNo: z.string(),
      claim: z.literal('free'),
      resyncRequestId: z.string(),
    }),
    responseDescription: 'The claim is free and a re-read is requested',
    errors: [400, 404, 409],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/audit/orders/:orderNo/retry-audit',
    operationId: 'retryAudit',
    tag: 'audit',
    summary: 'Try Submit/Audit of a saved, not yet audited bill again at once',
    params: OrderNoParams,
    body: CloseOrderBody,
    status: 200,
    response: z.object({ schemeId: z.string(), orderNo: z.string(), retrying: z.literal(true) }),
    responseDescription: 'The settler retries at its next pass',
    errors: [400, 404, 409],
    role: 'operator',
  },
  {
    method: 'get',
    path: '/api/schemes',
    operationId: 'listSchemes',
    tag: 'schemes',
    summary: 'Schemes (SCHEMES_DIR) with pause state, cursor, lag, counts per status and the loader circuit',
    query: PageQuery,
    status: 200,
    response: SchemesView,
    responseDescription: 'A page of schemes',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'post',
    path: '/api/schemes/:id/pause',
    operationId: 'pauseScheme',
    tag: 'schemes',
    summary: 'Pause extraction of a scheme (sync_cursors.paused, checked before each poll)',
    params: SchemeIdParams,
    body: PauseBody,
    bodyRequired: false,
    status: 200,
    response: PauseView,
    responseDescription: 'The new state',
    errors: [400, 404],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/schemes/:id/resume',
    operationId: 'resumeScheme',
    tag: 'schemes',
    summary: 'Resume extraction of a scheme',
    params: SchemeIdParams,
    body: PauseBody,
    bodyRequired: false,
    status: 200,
    response: PauseView,
    responseDescription: 'The new state',
    errors: [400, 404],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/repush',
    operationId: 'repush',
    tag: 'repair',
    summary: 'Re-push failed or dead-lettered orders: read again from WDT by default',
    description:
      'Each order (of a dead letter, or failed / dead-lettered) becomes a request the extractor carries out: the ' +
      "order's current version is read from WDT and re-emitted past the fingerprint filter (trigger `repush`). A dead " +
      'letter whose order is already loaded is closed instead. With `payload: true` a dead letter from a Kafka topic is ' +
      're-published as parked (original bytes and key). `dryRun` answers the plan and `wdtCalls` without acting.',
    body: RepushBody,
    status: 200,
    response: RepushView,
    responseDescription: 'Outcome per item',
    errors: [400],
    role: 'operator',
  },
  {
    method: 'post',
    path: '/api/resync',
    operationId: 'requestResync',
    tag: 'repair',
    summary: 'Ask the extractor to re-fetch orders from WDT and re-emit them',
    body: ResyncBody,
    status: 202,
    response: ResyncCreatedView,
    responseDescription: 'The resync requests (an already pending one is returned, not duplicated)',
    errors: [400],
    role: 'operator',
  },
  {
    method: 'get',
    path: '/api/resync',
    operationId: 'listResync',
    tag: 'repair',
    summary: 'Resync requests, newest first',
    query: ResyncListQuery,
    status: 200,
    response: pageOf(ResyncRequestView),
    responseDescription: 'A page of resync requests',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/resync/:id',
    operationId: 'getResync',
    tag: 'repair',
    summary: 'One resync request and its state',
    params: IdParams,
    status: 200,
    response: ResyncRequestView,
    responseDescription: 'The resync request',
    errors: [400, 404],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/base-data/waiting',
    operationId: 'listBaseDataWaiting',
    tag: 'repair',
    summary: 'Codes orders wait for in Kingdee base data (waiting_base_data), with the orders',
    description:
      'An order Kingdee refused only because of base data waits: one row per code and organisation with what holds ' +
      '(does not exist, not allocated to the organisation, forbidden, not audited). The loader re-checks them on a ' +
      'schedule and loads the orders by itself once usable.',
    status: 200,
    response: BaseDataWaitingView,
    responseDescription: 'Codes → orders, most-blocking first',
    role: 'viewer',
  },
  {
    method: 'post',
    path: '/api/base-data/check',
    operationId: 'requestBaseDataCheck',
    tag: 'repair',
    summary: 'Ask the loader to check the codes orders wait for now',
    description:
      'Writes a request the loader picks up within seconds (the operator API never calls Kingdee); orders whose codes ' +
      'are usable are loaded through the normal path. The request is recorded as an action.',
    status: 202,
    response: BaseDataCheckView,
    responseDescription: 'The request',
    role: 'operator',
  },
  {
    method: 'get',
    path: '/api/actions',
    operationId: 'listActions',
    tag: 'audit',
    summary: 'Operator actions (who did what, when), newest first',
    query: ActionsQuery,
    status: 200,
    response: pageOf(ActionView),
    responseDescription: 'A page of actions',
    errors: [400],
    role: 'viewer',
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'getOpenApi',
    tag: 'meta',
    summary: 'This document',
    status: 200,
    response: z.record(z.string(), z.unknown()),
    responseDescription: 'OpenAPI 3.1 document',
    public: true,
  },
  ...CONSOLE_READ_ROUTES,
  ...SCHEME_EDITING_ROUTES,
  ...SESSION_ROUTES,
  ...WORK_REQUEST_ROUTES,
  ...RECONCILE_ROUTES,
  ...CONNECTION_ROUTES,
];

type Json = Record<string, unknown>;

/** Response shapes that appear under components.schemas (and are referenced, not repeated). */
const COMPONENTS = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries({
  Error: ErrorView,
  AuditOrder: AuditOrderView,
  AuditOrderDetail: AuditOrderDetailView,
  DeadLetter: DeadLetterView,
  DeadLetterDetail: DeadLetterDetailView,
  ResyncRequest: ResyncRequestView,
  Action: ActionView,
  Stats: StatsView,
  Schemes: SchemesView,
  Repush: RepushView,
  ...CONSOLE_READ_COMPONENTS,
  ...SCHEME_EDITING_COMPONENTS,
  ...SESSION_COMPONENTS,
  ...WORK_REQUEST_COMPONENTS,
  ...RECONCILE_COMPONENTS,
  ...CONNECTION_COMPONENTS,
})) {
  COMPONENTS.add(schema, { id });
}

/** Converts zod schemas to JSON Schema, collecting registered ones as `#/components/schemas/<id>`. */
class SchemaCollector {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const id = COMPONENTS.get(schema)?.id;
    // A registered schema is emitted into $defs only when nested: wrap it to collect it.
    const out = z.toJSONSchema(id ? z.object({ value: schema }) : schema, {
      io,
      unrepresentable: 'any',
      metadata: COMPONENTS,
    }) as Json;
    for (const [name, def] of Object.entries((out.$defs ?? {}) as Record<string, Json>))
      this.components[name] = tidy(def) as Json;
    delete out.$defs;
    delete out.$schema;
    return id ? { $ref: `#/components/schemas/${id}` } : (tidy(out) as Json);
  }
}

/** Points $defs references at components; drops the noise zod adds (format regexes, safe-int bounds). */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (node && typeof node === 'object') {
    const obj = { ...(node as Json) };
    if (typeof obj.format === 'string' && typeof obj.pattern === 'string') delete obj.pattern;
    // z.int() states the safe-integer range; that says nothing to a reader.
    if (obj.minimum === Number.MIN_SAFE_INTEGER) delete obj.minimum;
    if (obj.maximum === Number.MAX_SAFE_INTEGER) delete obj.maximum;
    if (typeof obj.$ref === 'string') obj.$ref = obj.$ref.replace(/^#\/\$defs\//, '#/components/schemas/');
    for (const [k, v] of Object.entries(obj)) obj[k] = tidy(v);
    return obj;
  }
  return node;
}

function parameters(
  schemas: SchemaCollector,
  schema: z.ZodType | undefined,
  where: 'path' | 'query',
): Json[] {
  if (!schema) return [];
  const json = schemas.convert(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; the message names the field',
  401: 'Missing or invalid bearer token or session',
  403:
    'Refused: the role is too low (or reveal=pii without admin), the X-CSRF-Token of a cookie session is ' +
    'missing or wrong, or (payload) a binary payload without reveal=pii',
  404: 'Not found',
  409: 'Conflict: the message says why (`download: true` when the scheme directory is read-only)',
  412: 'The resource changed since the etag sent in If-Match',
  428: 'If-Match is required',
};

/** `/api/dead-letters/:id` → `/api/dead-letters/{id}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function responseContent(schemas: SchemaCollector, route: RouteSpec): Json {
  return route.contentType
    ? { [route.contentType]: { schema: { type: 'string', format: 'binary' } } }
    : { 'application/json': { schema: route.response ? schemas.convert(route.response, 'output') : {} } };
}

/** The operator API's OpenAPI 3.1 document, generated from the route table and its zod schemas. */
export function buildOpenApiDocument(): Json {
  const schemas = new SchemaCollector();
  const errorSchema = schemas.convert(ErrorView, 'output');
  const paths: Record<string, Json> = {};
  for (const route of OPERATOR_ROUTES) {
    const responses: Json = {
      [String(route.status)]: {
        description: route.responseDescription,
        ...(route.status === 204 ? {} : { content: responseContent(schemas, route) }),
      },
    };
    const codes = new Set([...(route.errors ?? []), ...(route.public ? [] : [401, 403])]);
    for (const code of [...codes].sort())
      responses[String(code)] = {
        description: ERROR_DESCRIPTIONS[code],
        content: { 'application/json': { schema: errorSchema } },
      };
    const parameterList = [
      ...parameters(schemas, route.params, 'path'),
      ...parameters(schemas, route.query, 'query'),
    ];
    const path = toOpenApiPath(route.path);
    paths[path] = {
      ...(paths[path] ?? {}),
      [route.method]: {
        operationId: route.operationId,
        tags: [route.tag],
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        ...(route.public ? { security: [] } : { 'x-required-role': route.role }),
        ...(parameterList.length ? { parameters: parameterList } : {}),
        ...(route.body
          ? {
              requestBody: {
                required: route.bodyRequired ?? true,
                content: { 'application/json': { schema: schemas.convert(route.body, 'input') } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'WDT → Kingdee sync: operator API',
      version: '1.0.0',
      description:
        'Audit queries, dead letters, scheme pause/resume, re-push and resync for the WDT (旺店通) → Kingdee K/3 Cloud ' +
        'PUR_MRB pipeline. Every /api route except this document and sign-in (`POST /api/session`) needs ' +
        "`Authorization: Bearer <token>` (named tokens from OPERATOR_TOKENS, `name:role:token`) or the console's " +
        'session cookie `wks_session`; with the cookie every non-GET call needs `X-CSRF-Token` (403 otherwise). ' +
        'Roles: viewer (reads) < operator (pause/resume, re-push, resync, close, link, base-data check) < admin; each ' +
        'operation states its least role in `x-required-role` (403 when lower). Every mutating call and every ' +
        `\`reveal=pii\` is recorded in operator_actions with the token's name. Personal data (${PII_FIELDS.join(', ')}) ` +
        'is masked in every answer unless `reveal=pii`, which needs admin. ' +
        'Lists page with `limit` (≤ 200, default 50) and `offset`; `nextOffset` is null on the last page. ' +
        'Times in (`from`, `to`): `yyyy-MM-dd HH:mm:ss` or ISO 8601; without an offset they are Shanghai time ' +
        '(+08:00). Times out: ISO 8601 in Shanghai time, e.g. `2026-12-04T19:20:00.000+08:00`; stored events ' +
        '(`event`, payload `data`/`json`) are shown as received. ' +
        '/health, /ready and /metrics are public.',
    },
    servers: [{ url: 'http://localhost:3005' }],
    security: [{ bearer: [] }, { session: [] }],
    tags: [
      { name: 'audit', description: 'What happened to orders, and who did what' },
      { name: 'dead-letters', description: 'Records a stage could not process' },
      { name: 'schemes', description: 'Sync schemes and their extraction state' },
      { name: 'repair', description: 'Re-push, resync and base data orders wait for' },
      {
        name: 'reconciliation',
        description:
          'Runs proving Kingdee holds exactly the bills WDT orders call for, their findings and re-push',
      },
      {
        name: 'connections',
        description: 'WDT shops and Kingdee account sets: schemes using them, health, connection tests',
      },
      { name: 'console', description: 'Read models of the operator console' },
      { name: 'session', description: 'Console sign-in (session cookie and CSRF token)' },
      { name: 'meta', description: 'This document' },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from OPERATOR_TOKENS (name:role:token). No CSRF token needed.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'wks_session',
          description: 'Set by POST /api/session; non-GET calls also need the header X-CSRF-Token.',
        },
      },
      schemas: Object.fromEntries(Object.entries(schemas.components).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
