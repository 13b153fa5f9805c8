import { KingdeeClient } from '@libs/kingdee-client';
import { KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { eventually, TestEnv } from '../support/test-env';
import {
  allIn,
  auditsOf,
  billsPerKey,
  claimStates,
  descriptionKeyed,
  docs,
  documentFor,
  expectOneBillEach,
  lastStatus,
  loaderFixtures,
  schemeVariant,
  wdtRecord,
} from './loader-harness';

/**
 * The write protocol against a Kingdee that misbehaves as a real install does
 * (shared/reference/kingdee-fault-model.md): every fault is a sandbox knob, every test asserts the
 * fault fired at least 3 times, and every order must end as exactly one bill.
 */
describe('write protocol: exactly one bill per order against a hostile ERP', () => {
  const fx = loaderFixtures('write-protocol');
  const rig = fx.rig;
  // Set once the fixtures' own beforeAll (registered first) has run.
  let t: TestEnv;
  let sandbox: KingdeeSandbox;
  beforeAll(() => {
    ({ t, sandbox } = fx);
  });
  const keysOf = (list: Array<{ billKey: string }>) => list.map((d) => d.billKey);
  /** A person entering bills in Kingdee by hand. */
  const manualClient = () =>
    new KingdeeClient({
      serverUrl: sandbox.url,
      acctId: sandbox.credentials.acctId,
      username: sandbox.credentials.username,
      password: sandbox.credentials.password,
      authMode: 'validate_user',
    });

  it.each(['reject', 'accept'] as const)(
    'a proxy 5xx page after the write committed: one bill per order, none recorded failed (duplicate numbers %s)',
    async (duplicateBillNo) => {
      sandbox.setSwitches({ duplicateBillNo });
      sandbox.setKnobs({ next5xxAfterCommit: 3, faultMethods: ['BatchSave'] });
      const scheme = schemeVariant(`p5xx-${duplicateBillNo}`, (s) => ({
        ...s,
        target: { ...s.target, batchSize: 1 },
      }));
      const list = docs(scheme, `P5XX-${duplicateBillNo}`, 6);
      const r = await rig([scheme]);
      await r.load(list);
      await r.settleLoaded(list);
      expect(sandbox.faults().injected.http5xxAfterCommit).toBeGreaterThanOrEqual(3);
      expectOneBillEach(sandbox, keysOf(list));
      const last = await lastStatus(t, scheme.id, 6);
      expect(keysOf(list).map((k) => last.get(k)?.status)).toEqual(Array(6).fill('loaded'));
    },
  );

  /**
   * The next three BatchSaves commit 6 s after the client gave up (Kingdee accepting a duplicate
   * FBillNo, as a real account may): one bill per call so each late commit is its own order.
   */
  const lateCommitCase = (name: string) => {
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    sandbox.setKnobs({
      nextLateCommits: 3,
      lateCommitHoldMs: 6000,
      lateCommitLocksSession: false,
      faultMethods: ['BatchSave'],
    });
    return schemeVariant(name, (s) => ({ ...s, target: { ...s.target, batchSize: 1 } }));
  };

  it('a write that commits after the client gave up: looked up again until the settle window passed, one bill', async () => {
    const scheme = lateCommitCase('late');
    const list = docs(scheme, 'LATE', 5);
    const r = await rig([scheme], { sessions: 3 });
    await r.load(list);
    await r.settleLoaded(list, 90_000);
    await eventually('the late commits', async () => sandbox.faults().lateCommitsPending === 0, 30_000);
    expectOneBillEach(sandbox, keysOf(list));
    const faults = sandbox.faults();
    expect(faults.injected.lateCommit).toBeGreaterThanOrEqual(3);
    expect(faults.commitsAfterClientGaveUp).toBeGreaterThanOrEqual(3);
  });

  it('negative control: a settle window shorter than the late commit produces a second bill', async () => {
    const scheme = lateCommitCase('late-negative');
    const list = docs(scheme, 'LATENEG', 4);
    const r = await rig([scheme], { sessions: 3, env: { KINGDEE_SETTLE_WINDOW_MS: '1000' } });
    await r.load(list);
    await r.settleUntil(
      'every claim settled',
      () => allIn(t, scheme.id, keysOf(list), ['loaded', 'duplicate_in_erp']),
      90_000,
    );
    await eventually('the late commits', async () => sandbox.faults().lateCommitsPending === 0, 30_000);
    expect(sandbox.faults().injected.lateCommit).toBeGreaterThanOrEqual(3);
    const counts = billsPerKey(sandbox);
    expect(keysOf(list).some((k) => (counts.get(k) ?? 0) > 1)).toBe(true);
  });

  it('MsgCode 4 after the save: settled by look-up, one bill per order', async () => {
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    sandbox.setKnobs({ nextExceptionsAfterSave: 3 });
    const scheme = schemeVariant('msg4', (s) => ({ ...s, target: { ...s.target, batchSize: 1 } }));
    const list = docs(scheme, 'MSG4', 5);
    const r = await rig([scheme]);
    await r.load(list);
    await r.settleLoaded(list);
    expect(sandbox.faults().injected.exceptionAfterSave).toBeGreaterThanOrEqual(3);
    expectOneBillEach(sandbox, keysOf(list));
  });

  it.each([
    ['replies without DIndex', { nextOmitDIndex: 3 }, 'omitDIndex'],
    ['fewer entities than models', { nextShortEntities: 3 }, 'shortEntities'],
    ['truncated JSON after the commit', { nextTruncatedReplies: 3 }, 'truncatedReply'],
  ] as const)('%s: the unreported models are looked up, never resent blindly', async (_, knobs, fault) => {
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    sandbox.setKnobs(knobs);
    const scheme = schemeVariant(`unrep-${fault.toLowerCase()}`, (s) => ({
      ...s,
      target: { ...s.target, batchSize: 3 },
    }));
    const list = docs(scheme, `UNREP-${fault}`, 9);
    const r = await rig([scheme]);
    await r.load(list);
    await r.settleLoaded(list);
    expect(sandbox.faults().injected[fault]).toBeGreaterThanOrEqual(3);
    expectOneBillEach(sandbox, keysOf(list));
  });

  it('a bill left as a draft whose Submit/Audit fails is saved_not_audited, retried (Submit/Audit only), then loaded', async () => {
    sandbox.setKnobs({
      nextExceptionsAfterSave: 3,
      exceptionAfterSaveMode: 'draft',
      nextSubmitAuditFailures: 3,
    });
    const scheme = schemeVariant('draft', (s) => ({ ...s, target: { ...s.target, batchSize: 1 } }));
    const list = docs(scheme, 'DRAFT', 3);
    const r = await rig([scheme], { env: { LOADER_AUDIT_RETRY_MS: '500' } });
    await r.load(list);
    await r.settleLoaded(list);
    const faults = sandbox.faults().injected;
    expect(faults.exceptionAfterSave).toBeGreaterThanOrEqual(3);
    expect(faults.submitAuditFailure).toBeGreaterThanOrEqual(3);
    expectOneBillEach(sandbox, keysOf(list));
    expect(sandbox.store.all().map((b) => b.documentStatus)).toEqual(['C', 'C', 'C']);
    const audits = await auditsOf(t, scheme.id, 6);
    expect(audits.some((a) => a.status === 'saved_not_audited')).toBe(true);
    // "loaded" was never said of a bill that was not audited: it comes after every saved_not_audited.
    for (const key of keysOf(list)) {
      const statuses = audits.filter((a) => a.billKey === key).map((a) => a.status);
      expect(statuses.at(-1)).toBe('loaded');
      expect(statuses.filter((s) => s === 'loaded')).toHaveLength(1);
    }
    expect(billsPerKey(sandbox).size).toBe(3);
    expect(sandbox.stats.snapshot().billsCreated).toBe(3);
  });

  it('a numbering rule that replaces FBillNo while FBillNo is the key stops the scheme before a second bill', async () => {
    sandbox.setSwitches({ numbering: 'erp', duplicateBillNo: 'accept' });
    const scheme = schemeVariant('numbering-stop');
    const first = docs(scheme, 'NUMSTOP-A', 2);
    const r = await rig([scheme]);
    await r.load(first);
    await r.settleUntil('the first bills recorded', () => allIn(t, scheme.id, keysOf(first), ['loaded']));
    const [stop] = await t.ds.query(`SELECT reason FROM scheme_stops WHERE scheme_id = $1`, [scheme.id]);
    expect(stop.reason).toMatch(/numbering rule/);
    expect(stop.reason).toMatch(/FDESCRIPTION/);
    // Later documents (and a redelivery of the first ones) are parked, never written.
    const later = docs(scheme, 'NUMSTOP-B', 3);
    await r.load([...later, ...first]);
    expect(sandbox.store.all()).toHaveLength(2);
    expect(sandbox.stats.snapshot().billsCreated).toBe(2);
    const parked: Array<{ message_key: string; reason: string }> = await t.ds.query(
      `SELECT message_key, reason FROM parked_messages WHERE scheme_id = $1 ORDER BY message_key`,
      [scheme.id],
    );
    expect(parked.map((p) => [p.message_key, p.reason])).toEqual(keysOf(later).map((k) => [k, 'stopped']));
    const last = await lastStatus(t, scheme.id, 5);
    expect(keysOf(later).map((k) => last.get(k)?.status)).toEqual(['parked', 'parked', 'parked']);
    expect(last.get(keysOf(later)[0])?.reason).toMatch(/FDESCRIPTION/);
  });

  it('a numbering rule with the key in FDESCRIPTION: one bill per order through lost replies and 5xx after commit', async () => {
    sandbox.setSwitches({ numbering: 'erp', duplicateBillNo: 'accept' });
    sandbox.setKnobs({ nextLostResponses: 3, next5xxAfterCommit: 3, faultMethods: ['BatchSave'] });
    const scheme = descriptionKeyed('numbering-desc', (s) => ({
      ...s,
      target: { ...s.target, batchSize: 2 },
    }));
    const list = docs(scheme, 'NUMDESC', 12);
    const r = await rig([scheme]);
    await r.load(list);
    await r.settleLoaded(list);
    const f = sandbox.faults().injected;
    expect(f.lostResponse).toBeGreaterThanOrEqual(3);
    expect(f.http5xxAfterCommit).toBeGreaterThanOrEqual(3);
    expectOneBillEach(sandbox, keysOf(list), 'FDESCRIPTION');
    expect(
      (await t.ds.query(`SELECT count(*)::int AS n FROM scheme_stops WHERE scheme_id = $1`, [scheme.id]))[0]
        .n,
    ).toBe(0);
  });

  it('a look-up that finds two bills for one key: duplicate_in_erp naming every bill, and no further write', async () => {
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    const scheme = schemeVariant('dup-in-erp', (s) => ({ ...s, target: { ...s.target, batchSize: 1 } }));
    const list = docs(scheme, 'DUPERP', 3);
    // Entered by hand before the loader ever ran: two bills with each order's number.
    await manualClient().batchSave(
      'PUR_MRB',
      list.flatMap((d) => [d.model, d.model]),
      { isAutoSubmitAndAudit: true },
    );
    sandbox.setKnobs({ nextLostResponses: 3 });
    const r = await rig([scheme]);
    await r.load(list);
    await r.settleUntil('the duplicates recorded', () =>
      allIn(t, scheme.id, keysOf(list), ['duplicate_in_erp']),
    );
    expect(sandbox.faults().injected.lostResponse).toBeGreaterThanOrEqual(3);
    const last = await lastStatus(t, scheme.id, 3);
    for (const key of keysOf(list)) {
      expect(last.get(key)?.status).toBe('duplicate_in_erp');
      const numbers = sandbox.store.findByNumber('PUR_MRB', key).map((b) => b.billNo);
      expect(numbers).toHaveLength(3); // the two entered by hand, and ours whose reply was lost
      expect(last.get(key)?.errorMessage).toMatch(/3 bills/);
    }
    const before = sandbox.stats.snapshot().billsCreated;
    await r.load([...list, documentFor(scheme, wdtRecord('DUPERP-1', { qty: '9.0000' }))]);
    expect(sandbox.stats.snapshot().billsCreated).toBe(before);
  });

  it('a duplicate-number refusal is looked up: the same bill is loaded, a different one is conflict_in_erp (never failed)', async () => {
    sandbox.setSwitches({ duplicateBillNo: 'reject' });
    const scheme = schemeVariant('dup-number');
    const same = documentFor(scheme, wdtRecord('DUPNO-SAME'));
    const differs = documentFor(scheme, wdtRecord('DUPNO-DIFF'));
    const other = documentFor(scheme, wdtRecord('DUPNO-DIFF', { provider: 'GYS002', qty: '7.0000' }));
    await manualClient().batchSave('PUR_MRB', [same.model, other.model], { isAutoSubmitAndAudit: true });
    const r = await rig([scheme]);
    await r.load([same, differs]);
    await r.settleUntil('both decided', () =>
      allIn(t, scheme.id, ['DUPNO-SAME', 'DUPNO-DIFF'], ['loaded', 'conflict_in_erp']),
    );
    const states = await claimStates(t, scheme.id);
    expect(states.get('DUPNO-SAME')).toBe('loaded');
    expect(states.get('DUPNO-DIFF')).toBe('conflict_in_erp');
    const last = await lastStatus(t, scheme.id, 2);
    expect(last.get('DUPNO-DIFF')?.errorMessage).toMatch(/FSupplierID: order GYS001, bill GYS002/);
    expect(last.get('DUPNO-DIFF')?.errorMessage).toMatch(/FRMREALQTY/);
    expect(sandbox.store.all()).toHaveLength(2);
  });

  it('two schemes sharing a partition: the one whose Kingdee connection fails is parked (circuit open), the other keeps loading', async () => {
    // The other account's Kingdee throttles every call (MsgCode 14: nothing applied).
    const down = await startKingdeeSandbox({ port: 0, knobs: { throttleRate: 1 } });
    try {
      const a = schemeVariant('shared-down', (s) => ({
        ...s,
        retry: { count: 1, initialDelay: '100ms', maxDelay: '200ms' },
      }));
      const b = schemeVariant('shared-up');
      const r = await rig([a, b], { sandboxFor: (s) => (s.id === a.id ? down : sandbox) });
      const docsA = docs(a, 'SHARED-A', 6);
      const docsB = docs(b, 'SHARED-B', 6);
      // One partition, the failing scheme's documents first in every batch.
      for (let i = 0; i < 6; i += 2) {
        const handled = r.load([docsA[i], docsA[i + 1], docsB[i], docsB[i + 1]]);
        await Promise.race([
          handled,
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new Error('the batch is blocked by the scheme that cannot load')),
              30_000,
            ),
          ),
        ]);
      }
      expect(down.faults().injected.throttled).toBeGreaterThanOrEqual(3);
      expect([...r.circuitStates.values()].flat()).toContain('open');
      expectOneBillEach(sandbox, keysOf(docsB));
      expect(down.store.all()).toHaveLength(0);
      const parked: Array<{ reason: string }> = await t.ds.query(
        `SELECT message_key, reason FROM parked_messages WHERE scheme_id = $1`,
        [a.id],
      );
      expect(parked.map((p) => p.reason)).toEqual(Array(6).fill('circuit_open'));
      expect((await lastStatus(t, a.id, 6)).get(keysOf(docsA)[5])?.status).toBe('parked');
      // Kingdee answers again: a probe closes the circuit and the settler drains the parked documents.
      down.setKnobs({ throttleRate: 0 });
      await r.settleLoaded(docsA);
      expectOneBillEach(down, keysOf(docsA));
      // The settler removes a parked row after its document is loaded, so the rows go a moment later.
      await eventually(
        'the parked documents removed once loaded',
        async () =>
          (await t.ds.query(`SELECT 1 FROM parked_messages WHERE scheme_id = $1`, [a.id])).length === 0,
        15_000,
      );
    } finally {
      await down.close();
    }
  });

  it('a paused scheme parks its documents and loads them, in order, when resumed; others are not held up', async () => {
    const a = schemeVariant('pause-a');
    const b = schemeVariant('pause-b');
    await t.ds.query(
      `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, paused, updated_at) VALUES ($1, 'consign_time', '2026-11-01 00:00:00', true, now())`,
      [a.id],
    );
    const r = await rig([a, b]);
    await r.engine.holds.refresh();
    const v1 = documentFor(a, wdtRecord('PAUSE-1', { qty: '1.0000' }));
    const v2 = documentFor(a, wdtRecord('PAUSE-1', { qty: '2.0000' }));
    await r.load([v1, ...docs(b, 'PAUSE-B', 2)]);
    await r.load([v2]); // a newer version of a parked order waits behind it, as the newest version
    expectOneBillEach(sandbox, ['PAUSE-B-1', 'PAUSE-B-2']);
    expect(billsPerKey(sandbox).get('PAUSE-1')).toBeUndefined();
    await t.ds.query(`UPDATE sync_cursors SET paused = false WHERE scheme_id = $1`, [a.id]);
    await r.settleLoaded([v2]);
    expectOneBillEach(sandbox, ['PAUSE-1']);
    const bill = sandbox.store.all().find((x) => x.billNo === 'PAUSE-1')!;
    expect(bill.entries.map((e) => Number(e.FRMREALQTY))).toContain(2);
  });

  it('a claim whose lease ran out while its owner retried (throttled): the next owner settles first; one bill', async () => {
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    const scheme = schemeVariant('lease-expiry', (s) => ({
      ...s,
      // Retries spaced wider than the lease: the lease runs out between two attempts.
      retry: { count: 20, initialDelay: '1500ms', maxDelay: '1500ms' },
      target: { ...s.target, batchSize: 1 },
    }));
    const doc = documentFor(scheme, wdtRecord('LEASE-1'));
    const a = await rig([scheme], {
      owner: 'replica-a',
      env: { LOADER_LEASE_MS: '2000', LOADER_LEASE_SKEW_MS: '500' },
    });
    await a.load([documentFor(scheme, wdtRecord('LEASE-0'))]); // a first bill: its number came back as sent
    sandbox.setKnobs({ nextThrottles: 1000 });
    const first = a.load([doc]).catch((e: Error) => e);
    await eventually('replica A throttled', async () => sandbox.faults().injected.throttled >= 1);
    // Replica A stalls (its renewals and its settler stop): its lease runs out while it is still retrying.
    a.engine.leases.stop();
    await a.engine.settler.stop();
    const b = await rig([scheme], { owner: 'replica-b' });
    const second = b.load([doc]); // a rebalance hands the partition, and the document, to replica B
    await eventually('B took the claim over', async () => {
      const [row] = await t.ds.query(
        `SELECT owner FROM bill_claims WHERE scheme_id = $1 AND bill_key = 'LEASE-1'`,
        [scheme.id],
      );
      return row?.owner === 'replica-b';
    });
    // A's attempts and B's look-ups are refused (throttled) until Kingdee recovers.
    await eventually('throttled calls', async () => sandbox.faults().injected.throttled >= 3);
    sandbox.setKnobs({ nextThrottles: 0 });
    await second;
    await b.settleLoaded([doc]);
    await new Promise((r) => setTimeout(r, 1500)); // room for a stray retry of A to land, if it were sent
    expect(sandbox.faults().injected.throttled).toBeGreaterThanOrEqual(3);
    expectOneBillEach(sandbox, ['LEASE-0', 'LEASE-1']);
    expect(await first).toBeUndefined(); // A gave up the write without an error: it no longer owned the bill
  });

  it('claim rows lost (database restored) with lookupBeforeWrite: always: a redelivery writes no second bill', async () => {
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    const scheme = schemeVariant('restored', (s) => ({
      ...s,
      target: { ...s.target, lookupBeforeWrite: 'always' },
    }));
    const list = docs(scheme, 'RESTORED', 5);
    const r = await rig([scheme]);
    await r.load(list);
    await r.settleLoaded(list);
    await t.ds.query(`DELETE FROM bill_claims WHERE scheme_id = $1`, [scheme.id]);
    await r.load(list);
    await r.settleLoaded(list);
    expectOneBillEach(sandbox, keysOf(list));
    expect(sandbox.stats.snapshot().billsCreated).toBe(5);
  });

  it('every fault at once (duplicate numbers rejected, FBillNo key): one bill per order, none failed', async () => {
    sandbox.setSwitches({ duplicateBillNo: 'reject' });
    sandbox.setKnobs({
      next5xxAfterCommit: 3,
      nextLateCommits: 3,
      lateCommitHoldMs: 6000,
      nextLostResponses: 3,
      nextExceptionsAfterSave: 3,
      nextThrottles: 3,
      nextOmitDIndex: 3,
      nextShortEntities: 3,
      nextTruncatedReplies: 3,
      next5xx: 3,
      sessionCallLimit: 5,
      faultMethods: ['BatchSave'],
    });
    const scheme = schemeVariant('all-faults', (s) => ({ ...s, target: { ...s.target, batchSize: 2 } }));
    const list = docs(scheme, 'ALL', 50);
    const r = await rig([scheme], { sessions: 3 });
    await r.load(list);
    await r.settleLoaded(list, 120_000);
    const f = sandbox.faults().injected;
    for (const fault of [
      'http5xxAfterCommit',
      'lateCommit',
      'lostResponse',
      'exceptionAfterSave',
      'throttled',
      'omitDIndex',
      'shortEntities',
      'truncatedReply',
      'http5xxBefore',
      'sessionCallLimit',
    ] as const)
      expect([fault, f[fault] >= 3]).toEqual([fault, true]);
    expectOneBillEach(sandbox, keysOf(list));
    const states = await claimStates(t, scheme.id);
    expect([...states.values()].filter((s) => s === 'failed')).toHaveLength(0);
  });

  it('a server that binds only positional login bodies: the default login works, the named form fails naming the body form', async () => {
    sandbox.setSwitches({ loginBodies: 'positional' });
    const options = {
      serverUrl: sandbox.url,
      acctId: sandbox.credentials.acctId,
      username: sandbox.credentials.username,
      appId: sandbox.credentials.appId,
      appSecret: sandbox.credentials.appSecret,
    };
    for (const authMode of ['sign', 'app_secret'] as const) {
      await new KingdeeClient({ ...options, authMode }).ensureSession();
      await expect(
        new KingdeeClient({ ...options, authMode, loginBody: 'named' }).ensureSession(),
      ).rejects.toThrow(/not a Kingdee login reply.*sent in the named body form/);
    }
  });
});
