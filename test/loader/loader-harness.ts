import { createHash, randomUUID } from 'node:crypto';
import { AuditPublisher } from '@libs/audit';
import { silentLogger } from '@libs/common';
import { AuditEvent, AuditEventSchema, decodeEvent, KingdeeDocument } from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import { ConsumedMessage, DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import {
  ClaimStore,
  CircuitStateName,
  LoaderCircuit,
  LoadProcessor,
  PostgresClaimStore,
} from '@libs/loading';
import { compileScheme } from '@libs/mapping';
import { loadSchemeFile, Scheme } from '@libs/scheme';
import { KingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { readAll, TestEnv } from '../support/test-env';

export const SHIPPED = loadSchemeFile('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml');

export function schemeVariant(id: string, patch: (s: Scheme) => Scheme = (s) => s): Scheme {
  return patch({ ...SHIPPED, id });
}

/** A WDT-like record with the fields the shipped mapping reads. */
export function wdtRecord(
  orderNo: string,
  opts: { spec?: string; qty?: string; remark?: string } = {},
): Record<string, unknown> {
  return {
    stockout_id: String(Math.floor(Math.random() * 1e9)),
    order_no: orderNo,
    status: '110',
    consign_time: '2026-11-28 01:30:00',
    modified: '2026-11-28 01:31:07',
    warehouse_no: 'SH01',
    provider_no: 'GYS001',
    remark: opts.remark ?? '',
    details_list: [
      { rec_id: '1', spec_no: opts.spec ?? 'BWB-500-W', goods_count: opts.qty ?? '2.0000' },
      { rec_id: '2', spec_no: 'FH-L', goods_count: '0.5000' },
    ],
  };
}

/** What the transformer would emit for `record` under `scheme`. */
export function documentFor(scheme: Scheme, record: Record<string, unknown>): KingdeeDocument {
  const result = compileScheme(scheme).mapSync(record);
  if (result.outcome !== 'document') throw new Error(`record skipped: ${result.reason}`);
  return {
    eventType: 'kingdee.document',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: scheme.id,
    sourceKey: String(record.order_no),
    billKey: result.billKey,
    idempotencyField: scheme.target.idempotencyKey.field,
    formId: scheme.target.formId,
    correlationId: String(record.order_no),
    sourceEventId: randomUUID(),
    sourceFingerprint: 'fp',
    contentHash: createHash('sha256').update(JSON.stringify(result.model)).digest('hex'),
    transformedAt: new Date().toISOString(),
    model: result.model,
  };
}

let offset = 0;
export function asMessages(docs: KingdeeDocument[]): ConsumedMessage[] {
  return docs.map((d) => ({
    topic: 'docs',
    partition: 0,
    offset: String(offset++),
    key: d.sourceKey,
    value: Buffer.from(JSON.stringify(d)),
    headers: {},
    timestamp: '0',
  }));
}

export const running = { heartbeat: async () => undefined, isRunning: () => true };

export interface LoaderRig {
  processor: LoadProcessor;
  circuitStates: CircuitStateName[];
}

export function loaderRig(
  t: TestEnv,
  producer: EventProducer,
  sandbox: KingdeeSandbox,
  schemes: Scheme[],
  opts: { owner?: string; leaseMs?: number; claims?: ClaimStore; timeoutMs?: number; sessions?: number } = {},
): LoaderRig {
  const circuitStates: CircuitStateName[] = [];
  const pool = new KingdeeSessionPool({
    serverUrl: sandbox.url,
    acctId: sandbox.credentials.acctId,
    username: sandbox.credentials.username,
    appId: sandbox.credentials.appId,
    appSecret: sandbox.credentials.appSecret,
    authMode: 'sign',
    sessions: opts.sessions ?? 2,
    timeoutMs: opts.timeoutMs ?? 5000,
  });
  const circuit = new LoaderCircuit({
    threshold: 3,
    halfOpenAfterMs: 200,
    initialDelayMs: 20,
    maxDelayMs: 200,
    onStateChange: (s) => circuitStates.push(s),
  });
  const byId = new Map(schemes.map((s) => [s.id, s]));
  const processor = new LoadProcessor(
    (id) => byId.get(id),
    pool,
    opts.claims ?? new PostgresClaimStore(t.ds),
    new AuditPublisher(producer, t.topics),
    new DeadLetterPublisher(producer, t.topics, new PostgresPayloadStore(t.ds), 1_048_576),
    circuit,
    {
      owner: opts.owner ?? 'replica-a',
      leaseMs: opts.leaseMs ?? 60_000,
      maxBatchSize: 20,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
    },
    silentLogger,
  );
  return { processor, circuitStates };
}

/** Audit events of one scheme currently on the audit topic. */
export async function auditsOf(t: TestEnv, schemeId: string, atLeast: number): Promise<AuditEvent[]> {
  const all = await readAll(t, t.topics.audit, 1);
  let events = all
    .map((m) => decodeEvent(AuditEventSchema, m.value, 'audit'))
    .filter((e) => e.schemeId === schemeId);
  if (events.length < atLeast) {
    await new Promise((r) => setTimeout(r, 1000));
    events = (await readAll(t, t.topics.audit, 1))
      .map((m) => decodeEvent(AuditEventSchema, m.value, 'audit'))
      .filter((e) => e.schemeId === schemeId);
  }
  return events;
}

/** Bills in the sandbox per idempotency key. */
export function billsPerKey(sandbox: KingdeeSandbox, field = 'FBillNo'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const bill of sandbox.store.all()) {
    const key = field === 'FBillNo' ? (bill.suppliedBillNo ?? bill.billNo) : String(bill.header[field] ?? '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
