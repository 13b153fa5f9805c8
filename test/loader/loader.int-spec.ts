import { KingdeeDocumentSchema } from '@libs/contracts';
import { BatchConsumer, EventProducer } from '@libs/kafka';
import { ClaimStore, PostgresClaimStore } from '@libs/loading';
import { KingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { eventually, publishKeyed, TestEnv } from '../support/test-env';
import {
  allIn,
  asMessages,
  auditsOf,
  billsPerKey,
  claimStates,
  descriptionKeyed,
  documentFor,
  loaderFixtures,
  running,
  schemeVariant,
  wdtRecord,
} from './loader-harness';

describe('loader: Kingdee sandbox over HTTP, claims in real Postgres, audit on real Kafka', () => {
  const fx = loaderFixtures('loader');
  const rig = fx.rig;
  // Set once the fixtures' own beforeAll (registered first) has run.
  let t: TestEnv;
  let sandbox: KingdeeSandbox;
  let producer: EventProducer;
  beforeAll(() => {
    ({ t, sandbox, producer } = fx);
  });

  it.each(['keep_successes', 'rollback_all'] as const)(
    'loads the good models of a mixed batch; the bad one (unknown material) waits for base data with Kingdee’s message (atomicity %s)',
    async (atomicity) => {
      sandbox.setSwitches({ atomicity });
      const scheme = schemeVariant(`mixed-${atomicity.replace('_', '-')}`);
      const docs = ['A', 'B', 'C', 'D'].map((n) => documentFor(scheme, wdtRecord(`MIX-${atomicity}-${n}`)));
      docs.push(documentFor(scheme, wdtRecord(`MIX-${atomicity}-BAD`, { spec: 'NOSUCH-SKU-001' })));
      const r = await rig([scheme]);
      await r.load(docs);
      await r.settleUntil('outcomes', () =>
        allIn(
          t,
          scheme.id,
          docs.map((d) => d.billKey),
          ['loaded', 'failed'],
        ),
      );

      const bills = billsPerKey(sandbox);
      for (const n of ['A', 'B', 'C', 'D']) expect(bills.get(`MIX-${atomicity}-${n}`)).toBe(1);
      expect(bills.get(`MIX-${atomicity}-BAD`)).toBeUndefined();
      const audits = await auditsOf(t, scheme.id, 5);
      const byKey = new Map(audits.map((a) => [a.sourceKey, a]));
      for (const n of ['A', 'B', 'C', 'D']) {
        expect(byKey.get(`MIX-${atomicity}-${n}`)).toMatchObject({ status: 'loaded', stage: 'loader' });
        expect(byKey.get(`MIX-${atomicity}-${n}`)!.kingdeeId).toBeDefined();
      }
      const bad = byKey.get(`MIX-${atomicity}-BAD`)!;
      expect(bad.status).toBe('waiting_base_data');
      expect(bad.errorField).toBe('FMATERIALID');
      expect(bad.errorMessage).toContain('material NOSUCH-SKU-001 does not exist in Kingdee');
      expect(bad.errorMessage).toMatch(/FMATERIALID|物料/);
      // Audited bills really are audited in Kingdee (IsAutoSubmitAndAudit).
      expect(sandbox.store.all().every((b) => b.documentStatus === 'C')).toBe(true);
    },
  );

  it('does not send a document twice; a changed version of a loaded order is recorded for a person', async () => {
    const scheme = schemeVariant('twice');
    const doc = documentFor(scheme, wdtRecord('TWICE-1'));
    const r = await rig([scheme]);
    await r.load([doc]);
    await r.load([doc]);
    const changed = documentFor(scheme, wdtRecord('TWICE-1', { qty: '3.0000' }));
    await r.load([changed]);
    expect(billsPerKey(sandbox).get('TWICE-1')).toBe(1);
    // Redeliveries re-announce the original "loaded" event under its own id (the audit writer keeps one).
    const distinct = new Map((await auditsOf(t, scheme.id, 5)).map((a) => [a.eventId, a.status]));
    expect([...distinct.values()]).toEqual(['loaded', 'duplicate', 'changed_after_load']);
  });

  it.each(['destroy', 'hold'] as const)(
    'creates exactly one bill when the reply to a saved BatchSave is lost (%s)',
    async (mode) => {
      sandbox.setKnobs({ nextLostResponses: 1, lostResponseMode: mode });
      const scheme = schemeVariant(`lost-${mode}`);
      const docs = [1, 2, 3].map((i) => documentFor(scheme, wdtRecord(`LOST-${mode}-${i}`)));
      const r = await rig([scheme]);
      await r.load(docs);
      await r.settleLoaded(docs);
      const bills = billsPerKey(sandbox);
      for (const i of [1, 2, 3]) expect(bills.get(`LOST-${mode}-${i}`)).toBe(1);
      const audits = (await auditsOf(t, scheme.id, 6)).filter((a) => a.status === 'loaded');
      expect(audits.map((a) => a.status)).toEqual(['loaded', 'loaded', 'loaded']);
      expect(audits.every((a) => a.reason?.includes('found in Kingdee'))).toBe(true);
    },
  );

  it('rides out a 5xx storm, throttling and dropped sessions: retries, parks, then every bill once, nothing failed', async () => {
    const scheme = schemeVariant('storm');
    const docs = Array.from({ length: 12 }, (_, i) => documentFor(scheme, wdtRecord(`STORM-${i}`)));
    const r = await rig([scheme]);
    // An account this scheme has loaded into before: Kingdee kept the numbers it was sent.
    await r.load([documentFor(scheme, wdtRecord('STORM-WARM'))]);
    sandbox.setKnobs({ next5xx: 5, nextThrottles: 3, nextSessionDrops: 2 });
    await r.load(docs);
    await r.settleLoaded(docs);
    const bills = billsPerKey(sandbox);
    expect(docs.every((d) => bills.get(d.billKey) === 1)).toBe(true);
    expect(sandbox.faults().injected).toMatchObject({ http5xxBefore: 5, throttled: 3, sessionDrop: 2 });
    const states = r.circuitStates.get('default')!;
    expect(states).toContain('open');
    expect(states.at(-1)).toBe('closed');
  });

  it('while the ERP is down nothing fails: the unknown write settles, later documents park, all load when it is back', async () => {
    sandbox.setKnobs({ http5xxRate: 1 });
    const scheme = schemeVariant('erp-down');
    const docs = Array.from({ length: 10 }, (_, i) => documentFor(scheme, wdtRecord(`DOWN-${i}`)));
    const r = await rig([scheme]);
    await r.load(docs.slice(0, 5)); // a 5xx on a write: maybe applied → settling, never resent blindly
    await eventually('the circuit to open', async () => r.circuitStates.get('default')!.includes('open'));
    await r.load(docs.slice(5)); // the circuit is open: parked, the batch returns
    expect(sandbox.store.all()).toHaveLength(0);
    const states = await claimStates(t, scheme.id);
    expect(docs.slice(0, 5).map((d) => states.get(d.billKey))).toEqual(Array(5).fill('settling'));
    const parked = await t.ds.query(`SELECT count(*)::int AS n FROM parked_messages WHERE scheme_id = $1`, [
      scheme.id,
    ]);
    expect(parked[0].n).toBe(5);
    sandbox.setKnobs({ http5xxRate: 0 });
    await r.settleLoaded(docs);
    expect(billsPerKey(sandbox).size).toBe(10);
  });

  it('keeps one bill per order under a numbering rule that replaces FBillNo (idempotency key in FDESCRIPTION)', async () => {
    sandbox.setSwitches({ numbering: 'erp', duplicateBillNo: 'accept' });
    sandbox.setKnobs({ nextLostResponses: 1, lostResponseMode: 'destroy' });
    const scheme = descriptionKeyed('numbering');
    const docs = [1, 2].map((i) => documentFor(scheme, wdtRecord(`NUM-${i}`)));
    const r = await rig([scheme]);
    await r.load(docs);
    await r.settleUntil('loaded', () => allIn(t, scheme.id, ['NUM-1', 'NUM-2'], ['loaded']));
    await r.load(docs); // redelivered
    const bills = billsPerKey(sandbox, 'FDESCRIPTION');
    expect(bills.get('NUM-1')).toBe(1);
    expect(bills.get('NUM-2')).toBe(1);
    const loaded = [
      ...new Map(
        (await auditsOf(t, scheme.id, 4)).filter((a) => a.status === 'loaded').map((a) => [a.eventId, a]),
      ).values(),
    ];
    expect(loaded).toHaveLength(2);
    expect(loaded.every((a) => a.kingdeeNumber?.startsWith('CGTL'))).toBe(true);
  });

  it('a loader killed after BatchSave but before recording it: the next one takes the claims over and finds the bills', async () => {
    const scheme = schemeVariant('killed');
    const docs = [1, 2, 3].map((i) => documentFor(scheme, wdtRecord(`KILL-${i}`)));
    const real = new PostgresClaimStore(t.ds);
    const dying: ClaimStore = Object.assign(Object.create(real) as ClaimStore, {
      transition: () => Promise.reject(new Error('SIGKILL')),
      release: () => Promise.reject(new Error('SIGKILL')),
    });
    const first = await rig([scheme], {
      owner: 'replica-a',
      env: { LOADER_LEASE_MS: '2000' },
      claims: dying,
    });
    await expect(first.load(docs)).rejects.toThrow('SIGKILL');
    first.engine.leases.stop(); // dead: nothing renews its leases any more
    expect(billsPerKey(sandbox).size).toBe(3);
    const second = await rig([scheme], { owner: 'replica-b' });
    await second.settleLoaded(docs);
    await second.load(docs); // the redelivery is a duplicate now
    const bills = billsPerKey(sandbox);
    expect([1, 2, 3].map((i) => bills.get(`KILL-${i}`))).toEqual([1, 1, 1]);
    const loaded = (await auditsOf(t, scheme.id, 3)).filter((a) => a.status === 'loaded');
    expect(new Set(loaded.map((a) => a.sourceKey)).size).toBe(3);
  });

  it('two replicas handed the same documents at once (a rebalance mid-batch) create one bill per order', async () => {
    sandbox.setKnobs({ latencyMs: 150 });
    const scheme = schemeVariant('two-replicas');
    const docs = Array.from({ length: 30 }, (_, i) => documentFor(scheme, wdtRecord(`TWO-${i}`)));
    const a = await rig([scheme], { owner: 'replica-a' });
    const b = await rig([scheme], { owner: 'replica-b' });
    await Promise.all([a.load(docs), b.load([...docs].reverse())]);
    await a.settleLoaded(docs);
    const bills = billsPerKey(sandbox);
    expect(docs.map((d) => bills.get(d.billKey))).toEqual(Array(30).fill(1));
    const audits = await auditsOf(t, scheme.id, 30);
    const loaded = new Map(audits.filter((x) => x.status === 'loaded').map((x) => [x.eventId, x.sourceKey]));
    expect(loaded.size).toBe(30);
    expect(new Set(loaded.values()).size).toBe(30);
  });

  it('two loader replicas in one consumer group, with a real rebalance mid-run, create one bill per order', async () => {
    sandbox.setKnobs({ latencyMs: 100 });
    const scheme = schemeVariant('rebalance');
    const docs = Array.from({ length: 40 }, (_, i) => documentFor(scheme, wdtRecord(`REB-${i}`)));
    await publishKeyed(producer, t.topics.kingdeeDocument, KingdeeDocumentSchema, docs, (d) => d.sourceKey);
    const groupId = `loader-${t.suffix}`;
    const replica = async (owner: string) => {
      const r = await rig([scheme], { owner });
      const consumer = new BatchConsumer(t.kafka, {
        groupId,
        topics: [t.topics.kingdeeDocument],
        sessionTimeoutMs: 10000,
        chunkSize: 5,
      });
      return { r, consumer, start: () => consumer.start((m, ctx) => r.processor.handle(m, ctx)) };
    };
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    await a.start();
    await eventually('a few bills from the first replica', async () => sandbox.store.all().length >= 5);
    await b.start(); // joins the group: partitions move while A is mid-batch
    await eventually('40 bills', async () => billsPerKey(sandbox).size >= 40, 90000);
    await a.r.settleUntil(
      '40 loaded',
      () =>
        allIn(
          t,
          scheme.id,
          docs.map((d) => d.billKey),
          ['loaded'],
        ),
      60000,
    );
    await Promise.all([a.consumer.stop(), b.consumer.stop()]);
    const bills = billsPerKey(sandbox);
    expect(docs.map((d) => bills.get(d.billKey))).toEqual(Array(40).fill(1));
    const loaded = (await auditsOf(t, scheme.id, 40)).filter((x) => x.status === 'loaded');
    expect(new Set(loaded.map((x) => x.sourceKey)).size).toBe(40);
  });

  it('runs Save → Submit → Audit as separate calls when the scheme says so, and completes a half-done bill after a lost reply', async () => {
    sandbox.setKnobs({ nextLostResponses: 1, lostResponseMode: 'destroy' });
    const scheme = schemeVariant('separate', (s) => ({
      ...s,
      target: {
        ...s.target,
        submitMode: 'separate',
        requestOptions: { ...s.target.requestOptions, IsAutoSubmitAndAudit: false },
      },
    }));
    const docs = [1, 2, 3].map((i) => documentFor(scheme, wdtRecord(`SEP-${i}`)));
    const r = await rig([scheme]);
    await r.load(docs);
    await r.settleLoaded(docs);
    const bills = sandbox.store.all().filter((b) => b.billNo.startsWith('SEP-'));
    expect(bills).toHaveLength(3);
    expect(bills.every((b) => b.documentStatus === 'C')).toBe(true);
  });

  it('records Kingdee’s message when a deployment requires more fields (switch); an existing bill with the number is found, not failed', async () => {
    sandbox.setSwitches({ extraRequiredEntryFields: ['FTAXPRICE'] });
    const scheme = schemeVariant('extra-required');
    const doc = documentFor(scheme, wdtRecord('REQ-1'));
    const r = await rig([scheme]);
    await r.load([doc]);
    const [failed] = await auditsOf(t, scheme.id, 1);
    expect(failed).toMatchObject({ status: 'failed', errorField: 'FTAXPRICE' });
    expect(sandbox.store.all().filter((b) => b.billNo === 'REQ-1')).toHaveLength(0);

    // A bill with this number already exists in Kingdee (our claim row was lost): with duplicates
    // rejected, the refusal is looked up and the bill, carrying what the order calls for, is loaded.
    sandbox.setSwitches({ extraRequiredEntryFields: [], duplicateBillNo: 'reject' });
    const other = schemeVariant('extra-required-2');
    const first = documentFor(other, wdtRecord('DUP-1'));
    const r2 = await rig([other]);
    await r2.load([first]);
    await t.ds.query(`UPDATE bill_claims SET state = 'failed' WHERE scheme_id = 'extra-required-2'`);
    await r2.load([first]);
    expect(sandbox.store.all().filter((b) => b.billNo === 'DUP-1')).toHaveLength(1);
    const audits = await auditsOf(t, other.id, 2);
    expect(audits.map((a) => a.status)).toEqual(['loaded', 'loaded']);
    expect(audits[1].reason).toMatch(/found in Kingdee/);
  });

  it('dead-letters a document that violates its contract and keeps going', async () => {
    const scheme = schemeVariant('poison');
    const good = documentFor(scheme, wdtRecord('POISON-OK'));
    const r = await rig([scheme]);
    const messages = asMessages([good]);
    messages.unshift({
      ...messages[0],
      offset: '999999',
      key: 'POISON-BAD',
      value: Buffer.from('{"eventType":"kingdee.document"}'),
    });
    await r.processor.handle(messages, running);
    expect(billsPerKey(sandbox).get('POISON-OK')).toBe(1);
  });
});
