import * as path from 'node:path';
import type { Alert } from '@libs/alerts';
import { compileScheme } from '@libs/mapping';
import { EventProducer, KafkaReconcileSummaryPublisher } from '@libs/kafka';
import type { KingdeeSessionPool } from '@libs/kingdee-client';
import {
  ReconcileRepushService,
  ReconcileRunService,
  ReconcileRunStore,
  type ReconcileProgress,
} from '@libs/reconcile';
import { loadSchemeFile, type Scheme } from '@libs/scheme';
import { WdtLimiterRegistry } from '@libs/wdt-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { type WdtSandbox, startWdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';
import { adminJson, newPool } from '../kingdee/kingdee-test.support';
import { createTestEnv, readAll, type TestEnv } from '../support/test-env';
import { admin, makeClient, nativeClientOptions } from '../wdt/wdt-test-helpers';

/**
 * One reconciliation run against the real sandboxes over HTTP, real Postgres (migrated schema) and
 * real Kafka: one of each discrepancy made by hand, then exactly those findings, the summary event
 * on the audit topic, and the re-push behaviours.
 */
describe('reconciliation run (WDT and Kingdee sandboxes, Postgres, Kafka)', () => {
  let t: TestEnv;
  let wdt: WdtSandbox;
  let kd: KingdeeSandbox;
  let pool: KingdeeSessionPool;
  let registry: WdtLimiterRegistry;
  let producer: EventProducer;
  let scheme: Scheme;
  const alerts: Alert[] = [];
  const FROM = '2026-11-01 00:00:00';
  const TO = '2026-11-30 23:59:59';

  const lines = [
    { spec_no: 'BWB-500-W', goods_count: '2.0000' },
    { spec_no: 'FH-L', goods_count: '0.5000' },
  ];
  function order(orderNo: string, day: number, status = 110): Record<string, unknown> {
    return {
      order_no: orderNo,
      warehouse_no: 'SH01',
      provider_no: 'GYS001',
      status,
      consign_time: status >= 95 ? `2026-11-${String(day).padStart(2, '0')} 10:00:00` : '0000-00-00 00:00:00',
      details_list: lines,
    };
  }

  /** The bill the loader would have written for an order (mapping of the order as WDT holds it). */
  async function billFor(orderNo: string, extra: Record<string, unknown> = {}): Promise<number> {
    const record = wdt.store.get(orderNo) as unknown as Record<string, unknown>;
    const mapped = compileScheme(scheme).mapSync(record);
    if (mapped.outcome !== 'document') throw new Error(`${orderNo} does not map to a document`);
    const res = await adminJson(kd, 'POST', '/admin/bills', { ...mapped.model, ...extra });
    if (res.status !== 201) throw new Error(`bill for ${orderNo}: ${JSON.stringify(res.body)}`);
    return (res.body as { FID: number }).FID;
  }

  async function trail(
    orderNo: string,
    status: string,
    billState: string,
    kingdeeId: string | null,
  ): Promise<void> {
    await t.ds.query(
      `INSERT INTO audit_orders (scheme_id, source_key, status, stage, bill_key, kingdee_id, kingdee_number, bill_state,
              correlation_id, last_event_id, last_occurred_at, first_seen_at, updated_at)
       VALUES ($1, $2, $3, 'loader', $2, $4, $5, $6, $2, gen_random_uuid(), now(), now(), now())`,
      [scheme.id, orderNo, status, kingdeeId, kingdeeId ? orderNo : null, billState],
    );
  }

  beforeAll(async () => {
    t = await createTestEnv('reconcile');
    const shipped = loadSchemeFile(
      path.resolve(__dirname, '../../schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml'),
    );
    // Three orders a page, so the period is read over several pages.
    scheme = { ...shipped, source: { ...shipped.source, pageSize: 3 } };
    wdt = await startWdtSandbox({ port: 0, knobs: { callsPerMinute: 0 } });
    kd = await startKingdeeSandbox({ port: 0 });
    pool = newPool(kd, { sessions: 1 });
    registry = new WdtLimiterRegistry();
    producer = new EventProducer(t.kafka, 1_000_000);
    await producer.connect();
  }, 60_000);

  afterAll(async () => {
    registry?.stopAll();
    await producer?.disconnect();
    await wdt?.close();
    await kd?.close();
    await t?.cleanup();
  });

  it('finds exactly the discrepancies made by hand, publishes the summary, and re-pushes what it may', async () => {
    const seeded = await admin(wdt, 'POST', '/orders', {
      orders: [
        order('RC-OK-1', 3),
        order('RC-OK-2', 4),
        order('RC-MISS', 5),
        order('RC-DUP', 6),
        order('RC-QTY', 7),
        order('RC-UNA', 8),
        order('RC-TRAIL', 9),
        order('RC-CANCEL', 10, 5),
      ],
      seed: 7,
    });
    expect(seeded.status).toBe(200);
    // An order shipped outside the period: neither read nor reported.
    await admin(wdt, 'POST', '/orders', { orders: [order('RC-DEC', 1)], seed: 8 });
    await admin(wdt, 'PATCH', '/orders/RC-DEC', { consign_time: '2026-12-02 10:00:00' });

    for (const no of ['RC-OK-1', 'RC-OK-2', 'RC-DUP', 'RC-QTY', 'RC-UNA', 'RC-TRAIL']) await billFor(no);
    const missFid = await billFor('RC-MISS');
    // A person deletes one bill, enters a second one for an order, one for no order, edits a
    // quantity after audit and un-audits another.
    expect((await adminJson(kd, 'DELETE', `/admin/bills/${missFid}`)).status).toBe(200);
    await billFor('RC-DUP', { allowDuplicateNumber: true });
    await billFor('RC-OK-1', { FBillNo: 'HAND-EXTRA' });
    expect(
      (await adminJson(kd, 'PATCH', '/admin/bills/by-number/RC-QTY/entries/0', { FRMREALQTY: '1.25' }))
        .status,
    ).toBe(200);
    const unaudited = await adminJson(kd, 'POST', '/admin/bills/by-number/RC-UNA/unaudit');
    expect(unaudited.status).toBe(200);
    const unaFid = String((unaudited.body as { FID: number }).FID);
    // The trail says the order failed, but Kingdee holds its bill; the missing order's claim says loaded.
    await trail('RC-TRAIL', 'failed', 'none', null);
    await t.ds.query(
      `INSERT INTO bill_claims (scheme_id, bill_key, state, kingdee_id, kingdee_number, attempts, updated_at)
       VALUES ($1, 'RC-MISS', 'loaded', $2, 'RC-MISS', 1, now())`,
      [scheme.id, String(missFid)],
    );

    const runs = new ReconcileRunStore(t.ds);
    const service = new ReconcileRunService({
      ds: t.ds,
      schemes: (id) => (id === scheme.id ? scheme : undefined),
      wdt: makeClient(nativeClientOptions(wdt), registry),
      kingdee: pool,
      summaries: new KafkaReconcileSummaryPublisher(producer, t.topics),
      alerts: { notify: (a) => void alerts.push(a) },
      kingdeePageRows: 4,
    });
    const runId = (await runs.create({
      schemeId: scheme.id,
      from: FROM,
      to: TO,
      trigger: 'cli',
      requestedBy: 'test',
      owner: 'tester',
    })) as string;
    const seen: ReconcileProgress[] = [];
    const view = await service.run(runId, 'tester', {
      signal: new AbortController().signal,
      onProgress: (p) => seen.push(p),
    });

    expect(view).toMatchObject({
      state: 'done',
      phase: 'finished',
      error: null,
      periodFrom: FROM,
      periodTo: TO,
    });
    expect(view.counts).toEqual({
      matched: 3,
      missing_in_erp: 1,
      duplicated_in_erp: 1,
      extra_in_erp: 1,
      differs: 2,
      trail_disagrees: 1,
    });
    // 7 shipped orders; 9 bills (7 + a duplicate + an extra − the deleted one) of 2 lines each.
    expect(view.progress).toMatchObject({
      phase: 'finished',
      sourceOrders: 7,
      sourceTotal: 7,
      sourcePages: 3,
      wdtCalls: 3,
      sourceUnusable: 0,
      targetRows: 16,
      targetBills: 8,
      keysCompared: 8,
      keysTotal: 8,
    });
    // 16 rows in keyset pages of 4 rows: a full page leaves its last (maybe cut) bill to the next
    // page, so 8 period pages; then one look-up for RC-MISS.
    expect(view.progress.kingdeeCalls).toBe(9);
    expect(seen.map((p) => p.phase)).toEqual(
      expect.arrayContaining(['source', 'target', 'compare', 'finished']),
    );

    const findings = await runs.findings(runId);
    const brief = findings.map((f) => ({
      seq: f.seq,
      kind: f.kind,
      key: f.billKey,
      orderNo: f.orderNo,
      cause: f.cause,
      trailStatus: f.trailStatus,
      bills: f.billNumbers,
    }));
    expect(brief).toEqual([
      {
        seq: 1,
        kind: 'extra_in_erp',
        key: 'HAND-EXTRA',
        orderNo: null,
        cause: 'no_order',
        trailStatus: null,
        bills: ['HAND-EXTRA'],
      },
      {
        seq: 2,
        kind: 'duplicated_in_erp',
        key: 'RC-DUP',
        orderNo: 'RC-DUP',
        cause: null,
        trailStatus: null,
        bills: ['RC-DUP', 'RC-DUP'],
      },
      {
        seq: 3,
        kind: 'missing_in_erp',
        key: 'RC-MISS',
        orderNo: 'RC-MISS',
        cause: 'never_seen',
        trailStatus: null,
        bills: [],
      },
      {
        seq: 4,
        kind: 'differs',
        key: 'RC-QTY',
        orderNo: 'RC-QTY',
        cause: null,
        trailStatus: null,
        bills: ['RC-QTY'],
      },
      {
        seq: 5,
        kind: 'trail_disagrees',
        key: 'RC-TRAIL',
        orderNo: 'RC-TRAIL',
        cause: null,
        trailStatus: 'failed',
        bills: ['RC-TRAIL'],
      },
      {
        seq: 6,
        kind: 'differs',
        key: 'RC-UNA',
        orderNo: 'RC-UNA',
        cause: null,
        trailStatus: null,
        bills: ['RC-UNA'],
      },
    ]);
    const differences = (seq: number) => (findings[seq - 1].detail as { differences: unknown[] }).differences;
    expect(differences(4)).toEqual([
      { kind: 'value', field: 'FPURMRBENTRY[0].FRMREALQTY', expected: '2', actual: '1.25' },
    ]);
    expect(differences(6)).toEqual([
      { kind: 'un_audited', field: 'FDocumentStatus', expected: 'C', actual: 'D' },
    ]);
    expect(findings[4].detail).toMatchObject({
      trailBill: 'none',
      billsInErp: 1,
      detail: expect.stringContaining('failed'),
    });

    // The summary is on the audit topic, keyed by scheme, told apart by its header.
    const messages = await readAll(t, t.topics.audit, 1);
    const summary = messages.find((m) => m.headers['event-type'] === 'sync.reconciliation');
    expect(summary?.key).toBe(`reconcile:${scheme.id}`);
    expect(JSON.parse(summary?.value ?? '{}')).toMatchObject({
      runId,
      schemeId: scheme.id,
      state: 'done',
      trigger: 'cli',
      periodFrom: FROM,
      periodTo: TO,
      counts: view.counts,
      error: null,
    });
    const published: Array<{ at: Date | null }> = await t.ds.query(
      `SELECT summary_published_at AS at FROM reconcile_runs WHERE id = $1`,
      [runId],
    );
    expect(published[0].at).not.toBeNull();
    // One alert, critical because Kingdee holds a duplicate.
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ key: `reconcile:${scheme.id}`, severity: 'critical' });
    expect(alerts[0].text).toContain('duplicated in Kingdee 1');
    // Staging is scratch: nothing of the run stays.
    expect(await t.ds.query(`SELECT 1 FROM reconcile_staging WHERE run_id = $1`, [runId])).toEqual([]);

    // Re-push: missing, content differs, status only.
    await t.ds.query(
      `UPDATE reconcile_findings SET repush_state = 'requested', repush_requested_by = 'alice', repush_requested_at = now()
        WHERE run_id = $1 AND seq IN (3, 4, 6)`,
      [runId],
    );
    const repush = new ReconcileRepushService({
      ds: t.ds,
      schemes: (id) => (id === scheme.id ? scheme : undefined),
      kingdee: pool,
    });
    for (let i = 0; i < 3; i++) expect(await repush.runOne('tester', 60_000)).toBe(true);
    expect(await repush.runOne('tester', 60_000)).toBe(false);

    const after = await runs.findings(runId);
    const resync: Array<{ id: string; order_no: string; trigger: string; requested_by: string }> =
      await t.ds.query(
        `SELECT id::text AS id, order_no, trigger, requested_by FROM resync_requests WHERE scheme_id = $1`,
        [scheme.id],
      );
    expect(resync).toEqual([
      { id: expect.any(String), order_no: 'RC-MISS', trigger: 'repush', requested_by: 'alice' },
    ]);
    expect(after[2]).toMatchObject({
      repushState: 'done',
      repushResult: `no bill in Kingdee; resync ${resync[0].id} requested: the order is written once`,
    });
    expect(after[3]).toMatchObject({
      repushState: 'refused',
      repushResult:
        'bill RC-QTY differs in FPURMRBENTRY[0].FRMREALQTY (expected 2, Kingdee 1.25); bills are never overwritten: ' +
        'correct it in Kingdee, or delete it there and re-push the order (it is then written once)',
    });
    expect(after[5].repushState).toBe('done');
    const claims: Array<{
      bill_key: string;
      state: string;
      kingdee_id: string | null;
      epoch: string;
      due: boolean;
      taken: boolean;
    }> = await t.ds.query(
      `SELECT bill_key, state, kingdee_id, epoch::text AS epoch, next_check_at <= now() AS due,
                document IS NOT NULL AND lease_until < now() AS taken
           FROM bill_claims WHERE scheme_id = $1 ORDER BY bill_key`,
      [scheme.id],
    );
    expect(claims).toEqual([
      // Freed with a fenced epoch bump: a loader that held it can no longer change it.
      { bill_key: 'RC-MISS', state: 'free', kingdee_id: null, epoch: '1', due: null, taken: false },
      // Handed to the settler (expired lease, document, due now): it Submits and Audits by id.
      {
        bill_key: 'RC-UNA',
        state: 'saved_not_audited',
        kingdee_id: unaFid,
        epoch: '1',
        due: true,
        taken: true,
      },
    ]);
    // What the settler then does: a bill in status D can be submitted and audited by id.
    await pool.submit(scheme.target.formId, { ids: [unaFid] });
    await pool.audit(scheme.target.formId, { ids: [unaFid] });
    const bill = await adminJson(kd, 'GET', `/admin/bills/${unaFid}`);
    expect(bill.body).toMatchObject({ FDocumentStatus: 'C' });
  }, 60_000);

  it('never frees the claim of a write that may still commit in Kingdee (lost reply, late commit)', async () => {
    // A finding of a run: RC-LATE has no bill in Kingdee, but the loader sent its BatchSave 10 s ago
    // and lost the reply: until the settle deadline the write can still commit.
    const runs = new ReconcileRunStore(t.ds);
    const runId = (await runs.create({
      schemeId: scheme.id,
      from: FROM,
      to: TO,
      trigger: 'api',
      requestedBy: 'alice',
    }))!;
    await t.ds.query(`UPDATE reconcile_runs SET state = 'done' WHERE id = $1`, [runId]);
    const finding = {
      kind: 'missing_in_erp',
      key: 'RC-LATE',
      orderNo: 'RC-LATE',
      cause: 'waiting',
      trailStatus: 'settling',
      trailReason: null,
    };
    await t.ds.query(
      `INSERT INTO reconcile_findings (run_id, seq, kind, bill_key, order_no, cause, trail_status, detail,
              repush_state, repush_requested_by, repush_requested_at)
       VALUES ($1, 1, 'missing_in_erp', 'RC-LATE', 'RC-LATE', 'waiting', 'settling', $2, 'requested', 'alice', now())`,
      [runId, JSON.stringify(finding)],
    );
    await t.ds.query(
      `INSERT INTO bill_claims (scheme_id, bill_key, state, attempts, updated_at, last_write_at, settle_deadline, epoch)
       VALUES ($1, 'RC-LATE', 'settling', 1, now(), now() - interval '10 seconds', now() + interval '220 seconds', 3)`,
      [scheme.id],
    );
    const repush = new ReconcileRepushService({
      ds: t.ds,
      schemes: (id) => (id === scheme.id ? scheme : undefined),
      kingdee: pool,
    });
    expect(await repush.runOne('tester', 60_000)).toBe(true);
    const [refused] = await runs.findings(runId);
    expect(refused.repushState).toBe('refused');
    expect(refused.repushResult).toMatch(
      /^a write of RC-LATE may still commit in Kingdee until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(claim settling, the loader settles it\)/,
    );
    const [claim] = await t.ds.query(
      `SELECT state, epoch::text AS epoch FROM bill_claims WHERE scheme_id = $1 AND bill_key = 'RC-LATE'`,
      [scheme.id],
    );
    expect(claim).toEqual({ state: 'settling', epoch: '3' });
    expect(
      await t.ds.query(`SELECT 1 FROM resync_requests WHERE scheme_id = $1 AND order_no = 'RC-LATE'`, [
        scheme.id,
      ]),
    ).toEqual([]);

    // Past the deadline (the loader settled: still no bill), the same re-push frees it once.
    await t.ds.query(
      `UPDATE bill_claims SET settle_deadline = now() - interval '1 second', state = 'failed'
        WHERE scheme_id = $1 AND bill_key = 'RC-LATE'`,
      [scheme.id],
    );
    await t.ds.query(
      `UPDATE reconcile_findings SET repush_state = 'requested', repush_requested_at = now() WHERE run_id = $1`,
      [runId],
    );
    expect(await repush.runOne('tester', 60_000)).toBe(true);
    const [done] = await runs.findings(runId);
    expect(done.repushState).toBe('done');
    const [freed] = await t.ds.query(
      `SELECT state, epoch::text AS epoch FROM bill_claims WHERE scheme_id = $1 AND bill_key = 'RC-LATE'`,
      [scheme.id],
    );
    expect(freed).toEqual({ state: 'free', epoch: '4' });
  });
});
