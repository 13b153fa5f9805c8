import { z } from 'zod';
import { EVENT_SCHEMAS, EventType, TOPIC_EVENTS } from './events.schema';
import { TOPIC_CATALOGUE, TopicRole } from './topics';

const MESSAGE_NAMES: Record<EventType, string> = {
  'wdt.stockout-return.raw': 'RawStockoutEvent',
  'kingdee.document': 'KingdeeDocument',
  'sync.audit': 'AuditEvent',
  'sync.dead-letter': 'DeadLetterEnvelope',
  'sync.reconciliation': 'ReconcileSummary',
};

const KEY_DESCRIPTION: Record<TopicRole, string> = {
  rawStockout: 'WDT order_no: every version of one order lands on one partition, in order.',
  kingdeeDocument: 'WDT order_no (the source key).',
  audit:
    'WDT order_no (the source key); topic/partition/offset for unparseable messages; `reconcile:<schemeId>` for reconciliation summaries.',
  deadLetter: 'WDT order_no when known, else the original message key or topic/partition/offset.',
};

function payloadSchema(type: EventType): Record<string, unknown> {
  const json = z.toJSONSchema(EVENT_SCHEMAS[type], { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

/**
 * The AsyncAPI 3 document, generated from the zod contracts. `docs/asyncapi.yaml` is this object
 * written as YAML (`npm run asyncapi:generate`); a test fails when the two drift apart.
 */
export function buildAsyncApiDocument(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const role of Object.keys(TOPIC_CATALOGUE) as TopicRole[]) {
    const spec = TOPIC_CATALOGUE[role];
    const names: string[] = [];
    for (const type of TOPIC_EVENTS[role]) {
      const name = MESSAGE_NAMES[type];
      names.push(name);
      schemas[name] = payloadSchema(type);
      messages[name] = {
        name,
        contentType: 'application/json',
        headers: {
          type: 'object',
          properties: {
            'schema-version': { type: 'string', description: 'Major schema version of the payload.' },
            'event-type': { type: 'string', const: type },
            'correlation-id': {
              type: 'string',
              description:
                type === 'sync.reconciliation'
                  ? 'The reconciliation run id.'
                  : 'The WDT order number, followed across services.',
            },
            'content-type': { type: 'string', const: 'application/json' },
          },
          required: ['schema-version', 'event-type', 'correlation-id', 'content-type'],
        },
        payload: { $ref: `#/components/schemas/${name}` },
        bindings: {
          kafka: { key: { type: 'string', description: KEY_DESCRIPTION[role] }, bindingVersion: '0.5.0' },
        },
      };
      operations[`receive${name}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${role}` },
        messages: [{ $ref: `#/channels/${role}/messages/${name}` }],
      };
    }
    channels[role] = {
      address: spec.defaultName,
      description: `${spec.description} Name overridable with ${spec.envVar}. Default ${spec.partitions} partitions, retention ${spec.retentionDays} days.`,
      messages: Object.fromEntries(names.map((name) => [name, { $ref: `#/components/messages/${name}` }])),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'WDT → Kingdee purchase-return sync events',
      version: '1.0.0',
      description:
        'Topics of the WDT (旺店通) → Kingdee K/3 Cloud (金蝶云星空) PUR_MRB pipeline. Other teams may subscribe with their own consumer group. ' +
        'Versioning promise: within a major schemaVersion fields are only added, never removed or retyped; a breaking change ships as a new topic (.v2) alongside the old one.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages, schemas },
  };
}
