import { z } from 'zod';
import { CONNECTION_NAME_PATTERN } from '@libs/connections';

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

export const CONNECTION_COMPONENTS: Record<string, z.ZodType> = {
  Connection: ConnectionView,
  ConnectionTest: ConnectionTestView,
};
