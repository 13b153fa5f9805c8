import { createHash, randomUUID } from 'node:crypto';
import { AuditPublisher } from '@libs/audit';
import { AuditEvent, KingdeeDocument } from '@libs/contracts';
import { BatchConsumer, ConsumedMessage, DeadLetterPublisher } from '@libs/kafka';
import { KingdeeClient, KingdeeError } from '@libs/kingdee-client';
import { compileScheme } from '@libs/mapping';
import { ParkedMessageInput, ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { loadSchemeFile, Scheme } from '@libs/scheme';
import { Kafka } from 'kafkajs';
import { BillWriter } from './bill-writer';
import { KingdeeConnection } from './connection-circuit';
import { LeaseKeeper } from './lease-keeper';
import { LoadProcessor } from './load.processor';
import { classifyReply, classifyWriteError } from './reply-classifier';
import { SettlePolicy } from './settle-policy';
import { Settler } from './settler.service';
import { fakeConnection, FakeClaimStore, FakeKingdee, ok, saveResult } from './write-protocol.fake';

const SHIPPED = loadSchemeFile('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml');
const WINDOW = 12_000;

function scheme(id: string, patch: (s: Scheme) => Scheme = (s) => s): Scheme {
  return patch({ ...SHIPPED, id, target: { ...SHIPPED.target, batchSize: 5 } });
}

function doc(s: Scheme, orderNo: string, provider = 'GYS001'): KingdeeDocument {
  const result = compileScheme(s).mapSync({
    order_no: orderNo,
    status: '110',
    consign_time: '2026-11-28 01:30:00',
    warehouse_no: 'SH01',
    provider_no: provider,
    details_list: [{ spec_no: 'BWB-500-W', goods_count: '2.0000' }],
  });
  if (result.outcome !== 'document') throw new Error('not mapped');
  return {
    eventType: 'kingdee.document',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: s.id,
    sourceKey: orderNo,
    billKey: result.billKey,
    idempotencyField: s.target.idempotencyKey.field,
    formId: 'PUR_MRB',
    correlationId: orderNo,
    sourceEventId: randomUUID(),
    sourceFingerprint: 'fp',
    contentHash: createHash('sha256').update(JSON.stringify(result.model)).digest('hex'),
    transformedAt: new Date().toISOString(),
    model: result.model,
  };
}

let offset = 0;
const messages = (docs: KingdeeDocument[]): ConsumedMessage[] =>
  docs.map((d) => ({
    topic: 'docs',
    partition: 0,
    offset: String(offset++),
    key: d.sourceKey,
    value: Buffer.from(JSON.stringify(d)),
    headers: {},
    timestamp: '0',
  }));

const ambiguous = (message: string, code = 'KD_HTTP_5XX') =>
  new KingdeeError({ kind: 'ambiguous', code, message });

/** A loader wired with fakes: in-memory claims on a manual clock, an in-memory Kingdee per connection. */
function loader(schemes: Scheme[], connections: (s: Scheme) => KingdeeConnection) {
  const claims = new FakeClaimStore();
  let mono = 0;
  const leases = new LeaseKeeper(claims, { owner: 'me', leaseMs: 20_000, skewMs: 2_000, clock: () => mono });
  const events: AuditEvent[] = [];
  const parked: ParkedMessageInput[] = [];
  const stops: string[] = [];
  const holds = {
    hold: (id: string) =>
      stops.includes(id) ? { kind: 'stopped', reason: 'stopped', since: null } : undefined,
    stopScheme: async (id: string, reason: string) => void stops.push(id, reason),
  } as unknown as SchemeHolds;
  const parking = {
    park: async (items: ParkedMessageInput[]) => void parked.push(...items),
    parkedKeys: async () => new Set<string>(),
    take: async () => [],
    remove: async () => undefined,
  } as unknown as ParkedMessageStore;
  const settle = new SettlePolicy({
    clientTimeoutMs: 3000,
    serverExecutionTimeoutMs: 9000,
    settleWindowMs: WINDOW,
  });
  const byId = new Map(schemes.map((s) => [s.id, s]));
  const processor = new LoadProcessor({
    schemes: (id) => byId.get(id),
    connectionFor: connections,
    claims,
    leases,
    holds,
    parking,
    audit: { publish: async (e: AuditEvent[]) => void events.push(...e) } as unknown as AuditPublisher,
    deadLetters: { park: async () => undefined } as unknown as DeadLetterPublisher,
    settle,
    options: {
      owner: 'me',
      maxBatchSize: 20,
      minLeaseMs: 2000,
      recheckMs: 250,
      auditRetryMs: 500,
      behindRetryMs: 250,
      fenceHorizonMs: 5000,
    },
  });
  const settler = new Settler({
    processor,
    claims,
    leases,
    parking,
    settle,
    schemes: () => schemes,
    connectionFor: connections,
    options: { owner: 'me', pollMs: 250, batch: 100, drainLeaseMs: 30_000, drain: false, auditRetryMs: 500 },
  });
  const ctx = { isRunning: () => true, signal: new AbortController().signal };
  return {
    claims,
    leases,
    processor,
    settler,
    events,
    parked,
    stops,
    handle: (docs: KingdeeDocument[]) => processor.handle(messages(docs), ctx),
    advance: (ms: number) => {
      claims.now += ms;
      mono += ms;
    },
  };
}

const saves = (k: FakeKingdee) => k.calls.filter((c) => c === 'BatchSave').length;

describe('write protocol (issue 9 findings, one unit test each)', () => {
  it('1. a proxy 5xx after the write committed is ambiguous: never resent, settled by look-up as loaded', async () => {
    expect(classifyWriteError(ambiguous('BatchSave: HTTP 502'), 2)).toEqual([
      { kind: 'ambiguous', reason: 'BatchSave: HTTP 502' },
      { kind: 'ambiguous', reason: 'BatchSave: HTTP 502' },
    ]);
    const kingdee = new FakeKingdee();
    kingdee.script.push((models, k) => {
      k.saveAll(models);
      throw ambiguous('BatchSave: HTTP 502 after the request was sent');
    });
    const s = scheme('f1');
    const l = loader([s], () => fakeConnection(kingdee));
    await l.handle([doc(s, 'F1-1')]);
    expect(l.claims.state(s.id, 'F1-1')).toBe('settling');
    await l.settler.runOnce();
    expect(l.claims.state(s.id, 'F1-1')).toBe('loaded');
    expect(saves(kingdee)).toBe(1);
    expect(kingdee.bills).toHaveLength(1);
  });

  it('2. a write that commits after the client gave up: no rewrite before a look-up made after the settle deadline', async () => {
    const kingdee = new FakeKingdee();
    let late: Record<string, unknown>[] = [];
    kingdee.script.push((models) => {
      late = models;
      throw ambiguous('BatchSave: no reply (timeout)', 'KD_RESPONSE_LOST');
    });
    const s = scheme('f2');
    const l = loader([s], () => fakeConnection(kingdee));
    await l.handle([doc(s, 'F2-1')]);
    await l.settler.runOnce(); // finds nothing: too early to conclude anything
    l.advance(WINDOW - 1000);
    await l.settler.runOnce();
    expect(saves(kingdee)).toBe(1);
    kingdee.saveAll(late); // the held request commits now
    l.advance(2000);
    await l.settler.runOnce();
    expect(l.claims.state(s.id, 'F2-1')).toBe('loaded');
    expect(saves(kingdee)).toBe(1);
    expect(kingdee.bills).toHaveLength(1);
  });

  it('2b. … and a write that never committed is written again once a look-up after the deadline found nothing', async () => {
    const kingdee = new FakeKingdee();
    kingdee.script.push(() => {
      throw ambiguous('BatchSave: no reply (timeout)', 'KD_RESPONSE_LOST');
    });
    const s = scheme('f2b', (x) => ({ ...x, target: { ...x.target, batchSize: 1 } }));
    const l = loader([s], () => fakeConnection(kingdee));
    await l.handle([doc(s, 'F2B-1')]);
    // The fence taken with the claim gave the write 5 s (the horizon) to be sent: the deadline counts from there.
    l.advance(WINDOW + 5000 + 1);
    await l.settler.runOnce();
    // Not yet: nothing has shown that this account keeps FBillNo (a numbering rule would hide the bill).
    expect(saves(kingdee)).toBe(1);
    await l.handle([doc(s, 'F2B-2')]); // a normal write: its number came back as sent
    await l.settler.runOnce();
    expect(saves(kingdee)).toBe(3);
    expect(l.claims.state(s.id, 'F2B-1')).toBe('loaded');
    expect(kingdee.bills.filter((b) => b.number === 'F2B-1')).toHaveLength(1);
  });

  it('3. a lease that ran out (renewals stopped) allows no write, and a call in flight is abandoned before it ends', async () => {
    const claims = new FakeClaimStore();
    let mono = 0;
    const leases = new LeaseKeeper(claims, {
      owner: 'me',
      leaseMs: 10_000,
      skewMs: 1_000,
      clock: () => mono,
    });
    const s = scheme('f3');
    const [claim] = await claims.claim('me', 10_000, [doc(s, 'F3-1')]);
    leases.granted(0, [claim]);
    const bound = leases.bind([claim]);
    expect(leases.writable([claim], 1000)).toHaveLength(1);
    mono = 9_001; // our view of the lease ends skew before Postgres's
    expect(leases.writable([claim], 1)).toHaveLength(0);
    (leases as unknown as { expireDue(): void }).expireDue();
    expect(bound.signal.aborted).toBe(true);
    // A renewal that no longer returns the claim (taken over elsewhere) loses it at once.
    mono = 0;
    leases.granted(0, [claim]);
    claims.rows.get(`${s.id}\u0000F3-1`)!.owner = 'someone-else';
    await leases.renew();
    expect(leases.remaining(claim)).toBeLessThan(0);
    const kingdee = new FakeKingdee();
    const writer = new BillWriter(claims, leases, { minLeaseMs: 1000, fenceHorizonMs: 5000 });
    const out = await writer.write(
      fakeConnection(kingdee),
      s,
      [{ doc: doc(s, 'F3-1'), claim }],
      new AbortController().signal,
    );
    expect(out).toEqual([{ kind: 'lost' }]);
    expect(saves(kingdee)).toBe(0);
  });

  it('4. models the reply does not report (no DIndex, fewer entities than models) are ambiguous, not resent', () => {
    const noIndex = saveResult(
      ok([
        { id: '1', number: 'A', dIndex: null },
        { id: '2', number: 'B', dIndex: null },
      ]),
      2,
    );
    expect(classifyReply(noIndex, ['A', 'B'], true).map((v) => v.kind)).toEqual(['ambiguous', 'ambiguous']);
    const short = saveResult(ok([{ id: '1', number: 'A', dIndex: 0 }]), 2);
    expect(classifyReply(short, ['A', 'B'], true).map((v) => v.kind)).toEqual(['applied', 'ambiguous']);
  });

  it('5. a Number that differs from the FBillNo key stops the scheme (naming the fix) before any further write', async () => {
    const replaced = saveResult(ok([{ id: '9', number: 'CGTL000001', dIndex: 0 }]), 1);
    expect(classifyReply(replaced, ['F5-1'], true)[0]).toMatchObject({
      kind: 'number_replaced',
      number: 'CGTL000001',
    });
    expect(classifyReply(replaced, ['F5-1'], false)[0].kind).toBe('applied');
    const kingdee = new FakeKingdee();
    kingdee.script.push((models, k) =>
      saveResult(ok([{ ...k.store(models[0], 'C', 'CGTL000001'), dIndex: 0 }]), 1),
    );
    const s = scheme('f5', (x) => ({ ...x, target: { ...x.target, batchSize: 1 } }));
    const l = loader([s], () => fakeConnection(kingdee));
    await l.handle([doc(s, 'F5-1'), doc(s, 'F5-2'), doc(s, 'F5-3')]);
    expect(l.stops[0]).toBe(s.id);
    expect(l.stops[1]).toMatch(/FDESCRIPTION/);
    expect(saves(kingdee)).toBe(1);
    expect(l.claims.state(s.id, 'F5-1')).toBe('loaded');
    expect(l.parked.map((p) => p.key)).toEqual(['F5-2', 'F5-3']);
  });

  it('6. a look-up that finds two bills for one key records duplicate_in_erp with both numbers, and writes nothing', async () => {
    const kingdee = new FakeKingdee();
    const s = scheme('f6');
    const d = doc(s, 'F6-1');
    kingdee.store(d.model, 'C', 'F6-1');
    kingdee.store(d.model, 'C', 'F6-1');
    kingdee.script.push(() => {
      throw ambiguous('BatchSave: HTTP 503');
    });
    const l = loader([s], () => fakeConnection(kingdee));
    await l.handle([d]);
    await l.settler.runOnce();
    expect(l.claims.state(s.id, 'F6-1')).toBe('duplicate_in_erp');
    const event = l.events.find((e) => e.status === 'duplicate_in_erp')!;
    expect(event.errorMessage).toMatch(/2 bills/);
    await l.handle([d]);
    expect(saves(kingdee)).toBe(1);
  });

  it('7. SIGTERM while a handler waits on Kingdee ends the handler and the consumer within the grace', async () => {
    let eachBatch: ((payload: unknown) => Promise<void>) | undefined;
    let running = true;
    let commits = 0;
    const consumer = {
      events: { CRASH: 'crash' },
      on: () => undefined,
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async (opts: { eachBatch: (p: unknown) => Promise<void> }) => {
        eachBatch = opts.eachBatch;
      },
      stop: async () => {
        running = false;
        await inFlight;
      },
      disconnect: async () => undefined,
    };
    const kafka = { consumer: () => consumer } as unknown as Kafka;
    const bc = new BatchConsumer(kafka, { groupId: 'g', topics: ['t'], heartbeatIntervalMs: 50 });
    let sawAbort = false;
    await bc.start(async (_m, ctx) => {
      // Kingdee is down: the handler waits, as a write bound to the batch's signal would.
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      sawAbort = true;
      throw new Error('loader stopping');
    });
    const inFlight = eachBatch!({
      batch: {
        topic: 't',
        partition: 0,
        highWatermark: '1',
        messages: [{ offset: '0', key: null, value: Buffer.from('{}'), headers: {}, timestamp: '0' }],
      },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      commitOffsetsIfNecessary: async () => void (commits += 1),
      isRunning: () => running,
      isStale: () => false,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    await bc.stop(5_000);
    expect(sawAbort).toBe(true);
    expect(commits).toBe(0);
  });

  it('8. a bill found as a draft whose Submit fails is saved_not_audited, never loaded; a later retry loads it', async () => {
    const kingdee = new FakeKingdee();
    kingdee.submitFails = 1;
    const s = scheme('f8');
    kingdee.script.push((models, k) => {
      k.saveAll(models, 'A'); // saved; the automatic submit/audit step threw
      throw new KingdeeError({
        kind: 'ambiguous',
        code: 'KD_SERVER_EXCEPTION',
        message: 'BatchSave failed (MsgCode 4)',
      });
    });
    const l = loader([s], () => fakeConnection(kingdee));
    await l.handle([doc(s, 'F8-1')]);
    await l.settler.runOnce();
    expect(l.claims.state(s.id, 'F8-1')).toBe('saved_not_audited');
    expect(l.events.map((e) => e.status)).not.toContain('loaded');
    l.advance(1000);
    await l.settler.runOnce();
    expect(l.claims.state(s.id, 'F8-1')).toBe('loaded');
    expect(kingdee.bills.map((b) => b.status)).toEqual(['C']);
    expect(saves(kingdee)).toBe(1);
  });

  it('9. logins go in the positional body form the official SDKs send (the named form is a setting)', async () => {
    const bodies: string[] = [];
    const transport = {
      post: async (req: { body: string }) => {
        bodies.push(req.body);
        return { status: 200, setCookies: ['kdservice-sessionid=s1; path=/'], body: '{"LoginResultType":1}' };
      },
    };
    const options = {
      serverUrl: 'https://k3.example/k3cloud/',
      acctId: 'a',
      username: 'u',
      appId: 'id',
      appSecret: 'secret',
    };
    await new KingdeeClient({ ...options, authMode: 'app_secret' }, { transport }).ensureSession();
    await new KingdeeClient(
      { ...options, authMode: 'app_secret', loginBody: 'named' },
      { transport },
    ).ensureSession();
    expect(JSON.parse(bodies[0])).toEqual({ parameters: ['a', 'u', 'id', 'secret', 2052] });
    expect(JSON.parse(bodies[1])).toMatchObject({ acctID: 'a', appId: 'id' });
  });

  it('10. circuits are per connection: a failing connection parks its scheme, the other scheme in the batch loads', async () => {
    const up = new FakeKingdee();
    const down = new FakeKingdee();
    const good = fakeConnection(up, 'up');
    const bad = fakeConnection(down, 'down');
    for (let i = 0; i < 3; i++)
      await bad.circuit.call(() => Promise.reject(ambiguous('HTTP 502'))).catch(() => undefined);
    expect(bad.circuit.blocked).toBe(true);
    const a = scheme('f10-a');
    const b = scheme('f10-b');
    const l = loader([a, b], (s) => (s.id === a.id ? bad : good));
    await l.handle([doc(a, 'F10-A1'), doc(b, 'F10-B1'), doc(a, 'F10-A2')]);
    expect(l.parked.map((p) => [p.key, p.reason])).toEqual([
      ['F10-A1', 'circuit_open'],
      ['F10-A2', 'circuit_open'],
    ]);
    expect(l.claims.state(b.id, 'F10-B1')).toBe('loaded');
    expect(saves(down)).toBe(0);
  });

  it('11. a revoked batch frees at once the next chunk it fenced ahead but never sent (no settle window to wait out)', async () => {
    const kingdee = new FakeKingdee();
    const s = scheme('f11'); // batch size 5: two chunks of 5
    const l = loader([s], () => fakeConnection(kingdee));
    let running = true;
    kingdee.script.push((models, k) => {
      running = false; // a rebalance arrives while the first call is in flight
      return k.saveAll(models);
    });
    const docs = Array.from({ length: 10 }, (_, i) => doc(s, `F11-${i}`));
    const ctx = { isRunning: () => running, signal: new AbortController().signal };
    await l.processor.handle(messages(docs), ctx).catch(() => undefined);
    expect(saves(kingdee)).toBe(1);
    const states = docs.map((d) => l.claims.state(s.id, d.billKey));
    expect(states.slice(0, 5)).toEqual(Array(5).fill('loaded'));
    // The second chunk was fenced while the first call ran, then never sent: the partition's next
    // owner may claim it now, instead of after the settle window (a look-up after the deadline).
    expect(states.slice(5)).toEqual(Array(5).fill('free'));
  });
});
