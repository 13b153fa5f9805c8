import { z } from 'zod';
import { CONNECTION_NAME_PATTERN } from '@libs/connections';
import type { RouteSpec } from './openapi.document';

/**
 * Connections (issue 14): the WDT shops and Kingdee account sets of the deployment, without secrets,
 * with the schemes that use them and their health as the services see it; and connection tests the
 * operator queues for the services that hold the secrets (extractor: WDT, loader: Kingdee).
 */

const time = z.string().describe('ISO 8601 in Shanghai time, e.g. 2026-12-04T19:20:00.000+08:00');
const KINDS = ['wdt', 'kingdee'] as const;

export const ConnectionParams = z.strictObject({
  kind: z.enum(KINDS).describe('`wdt` or `kingdee`.'),
  name: z
    .string()
    .regex(CONNECTION_NAME_PATTERN, { error: 'not a connection name' })
    .describe('Connection name.'),
});

export const ConnectionTestIdParams = z.strictObject({ id: z.uuid().describe('Test id (uuid).') });

export const ConnectionTestResultView = z.object({
  ok: z.boolean(),
  ms: z.number().int().describe('How long the test took.'),
  errorKind: z
    .string()
    .optional()
    .describe(
      'The client’s error kind (auth, transient, rate_limited, invalid_params, permanent, timeout…).',
    ),
  error: z.string().optional().describe('The API’s message (never a secret).'),
});

export const ConnectionTestView = z.object({
  id: z.string(),
  kind: z.enum(KINDS),
  name: z.string(),
  state: z.enum(['queued', 'running', 'done']),
  requestedBy: z.string(),
  requestedAt: time,
  finishedAt: time.nullable(),
  testedBy: z.string().nullable().describe('The service instance that ran it.'),
  result: ConnectionTestResultView.nullable().describe('Null until done.'),
});

export const ConnectionInstanceView = z.object({
  service: z.string(),
  instance: z.string(),
  ok: z.boolean(),
  lastError: z.string().nullable(),
  checkedAt: time.nullable(),
  since: time.nullable(),
});

export const ConnectionView = z.object({
  kind: z.enum(KINDS),
  name: z.string(),
  origin: z.enum(['file', 'env']).describe('`env`: the implicit `default` of the single-account variables.'),
  sid: z.string().nullable().describe('WDT: the seller id.'),
  gateway: z.enum(['native', 'qimen']).nullable().describe('WDT gateway.'),
  appKey: z.string().nullable().describe('WDT: the app key (not a secret).'),
  budgetKey: z.string().nullable().describe('WDT: what the per-minute limit counts against.'),
  callsPerMinute: z.number().int().nullable(),
  url: z.string().describe('WDT base or Qimen URL, or the Kingdee server URL.'),
  account: z.string().nullable().describe('Kingdee: the account set, `host/path#acctId`.'),
  acctId: z.string().nullable(),
  username: z.string().nullable(),
  authMode: z.string().nullable(),
  sessionCap: z.number().int().nullable(),
  schemes: z
    .array(z.string())
    .describe('Schemes whose source.connection (WDT) or target.connection (Kingdee) it is.'),
  status: z
    .enum(['ok', 'failing', 'unknown'])
    .describe('failing when any service instance reports it failing; unknown when none reports it.'),
  lastError: z.string().nullable(),
  checkedAt: time.nullable().describe('The newest outcome any instance saw.'),
  since: time.nullable().describe('Since when the status holds.'),
  instances: z.array(ConnectionInstanceView),
  lastTest: ConnectionTestView.nullable().describe('The newest finished connection test.'),
});

export const ConnectionsView = z.object({ items: z.array(ConnectionView) });

export const CONNECTION_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/connections',
    operationId: 'listConnections',
    tag: 'connections',
    summary: 'Every WDT and Kingdee connection (no secrets), the schemes using it, its status and last error',
    description:
      'Status merges what each extractor (WDT: its polls of the schemes on the connection) and loader (Kingdee: ' +
      'its login check and circuit) reports, and the connection tests they ran.',
    status: 200,
    response: ConnectionsView,
    responseDescription: 'The connections, WDT first, by name',
    role: 'viewer',
  },
  {
    method: 'post',
    path: '/api/connections/:kind/:name/test',
    operationId: 'testConnection',
    tag: 'connections',
    summary: 'Test a connection (WDT: one query of an empty window; Kingdee: a login and a one-row query)',
    description:
      'The operator holds no secrets: it queues the test for an extractor (WDT) or loader (Kingdee) and waits ' +
      'up to 20 s for the answer (200, state done). Without an answer by then: 202 with the queued test; read it ' +
      'with GET /api/connections/tests/{id}. Recorded as an action.',
    params: ConnectionParams,
    status: 200,
    response: ConnectionTestView,
    responseDescription: 'The finished test (or 202: the test still queued or running)',
    errors: [400, 404],
    role: 'admin',
  },
  {
    method: 'get',
    path: '/api/connections/tests/:id',
    operationId: 'getConnectionTest',
    tag: 'connections',
    summary: 'A connection test: state and result',
    params: ConnectionTestIdParams,
    status: 200,
    response: ConnectionTestView,
    responseDescription: 'The test',
    errors: [400, 404],
    role: 'viewer',
  },
];

export const CONNECTION_COMPONENTS: Record<string, z.ZodType> = {
  Connection: ConnectionView,
  ConnectionTest: ConnectionTestView,
};
