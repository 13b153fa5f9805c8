import type { KingdeeSessionPool } from '@libs/kingdee-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { adminJson, goldenModel, newPool, SEED_SAVE_OPTIONS } from './kingdee-test.support';

/**
 * The Kingdee sandbox's "a person did it in the ERP" admin actions, each checked through the real
 * session pool's ExecuteBillQuery — what reconciliation will read.
 */
describe('Kingdee sandbox: bills entered, deleted, un-audited and edited by hand', () => {
  let sandbox: KingdeeSandbox;
  let pool: KingdeeSessionPool;

  const FIELDS = [
    'FID',
    'FBillNo',
    'FDocumentStatus',
    'FSupplierID.FNumber',
    'FEntryID',
    'FMATERIALID.FNumber',
    'FRMREALQTY',
  ];

  async function rowsOf(billNo: string): Promise<Array<Record<string, unknown>>> {
    return pool.executeBillQueryObjects({
      FormId: 'PUR_MRB',
      FieldKeys: FIELDS,
      FilterString: `FBillNo='${billNo}'`,
      OrderString: 'FID,FEntryID',
    });
  }

  /** A bill the loader would have saved: BatchSave with auto submit/audit (status C). */
  async function loaded(billNo: string): Promise<number> {
    const result = await pool.batchSave('PUR_MRB', [goldenModel(billNo)], SEED_SAVE_OPTIONS);
    return Number(result.status.successEntities[0].id);
  }

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0 });
    pool = newPool(sandbox, { sessions: 2 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset({ bills: true, sessions: true, stats: true, switches: true }));

  it('creates a bill by hand that ExecuteBillQuery sees like a saved one, default audited', async () => {
    const created = await adminJson(sandbox, 'POST', '/admin/bills', {
      ...goldenModel('HAND-1'),
      FDESCRIPTION: 'entered by hand',
    });
    expect(created.status).toBe(201);
    const bill = created.body as { FID: number; FBillNo: string; FDocumentStatus: string };
    expect(bill).toMatchObject({ FBillNo: 'HAND-1', FDocumentStatus: 'C', FDESCRIPTION: 'entered by hand' });

    const rows = await rowsOf('HAND-1');
    expect(rows).toEqual([
      expect.objectContaining({
        FID: bill.FID,
        FDocumentStatus: 'C',
        'FSupplierID.FNumber': 'GYS001',
        'FMATERIALID.FNumber': 'BWB-500-W',
        FRMREALQTY: 2,
      }),
      expect.objectContaining({ FID: bill.FID, 'FMATERIALID.FNumber': 'FH-L', FRMREALQTY: 0.5 }),
    ]);
    // Same FID sequence as the API's saves; the API's call stats do not count a person's bills.
    const apiFid = await loaded('API-1');
    expect(apiFid).toBe(bill.FID + 1);
    expect((await adminJson(sandbox, 'GET', '/admin/stats')).body).toMatchObject({ billsCreated: 1 });
  });

  it('takes a Model wrapper and a status; refuses a number in use unless told duplicates are allowed', async () => {
    await loaded('DUP-1');
    const refused = await adminJson(sandbox, 'POST', '/admin/bills', goldenModel('dup-1'));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'bill number dup-1 is already in use' });

    const second = await adminJson(sandbox, 'POST', '/admin/bills', {
      Model: goldenModel('DUP-1'),
      status: 'A',
      allowDuplicateNumber: true,
    });
    expect(second.status).toBe(201);
    const rows = await pool.executeBillQueryObjects({
      FormId: 'PUR_MRB',
      FieldKeys: ['FID', 'FDocumentStatus'],
      FilterString: "FBillNo='DUP-1'",
      OrderString: 'FID',
    });
    expect(rows.map((r) => r.FDocumentStatus)).toEqual(['C', 'A']);
    expect(new Set(rows.map((r) => r.FID)).size).toBe(2);

    const submitted = await adminJson(sandbox, 'POST', '/admin/bills', {
      ...goldenModel('SUB-1'),
      status: 'B',
    });
    expect(submitted.body).toMatchObject({ FDocumentStatus: 'B', FApproveDate: null });
  });

  it('answers 400 with the reason for bills a person could not enter', async () => {
    const unknownSupplier = await adminJson(sandbox, 'POST', '/admin/bills', {
      ...goldenModel('BAD-1'),
      FSupplierID: { FNumber: 'GYS999' },
    });
    expect(unknownSupplier.status).toBe(400);
    expect(unknownSupplier.body).toMatchObject({
      error: 'invalid bill',
      errors: [{ field: 'FSupplierID', message: expect.stringContaining('GYS999') as unknown }],
    });
    const noLines = await adminJson(sandbox, 'POST', '/admin/bills', {
      ...goldenModel('BAD-2'),
      FPURMRBENTRY: [],
    });
    expect(noLines.status).toBe(400);
    expect(
      (await adminJson(sandbox, 'POST', '/admin/bills', { ...goldenModel('BAD-3'), status: 'Z' })).status,
    ).toBe(400);
    expect(
      (await adminJson(sandbox, 'POST', '/admin/bills', { ...goldenModel('BAD-4'), FID: 100001 })).status,
    ).toBe(400);
    expect(await rowsOf('BAD-1')).toEqual([]);
  });

  it('deletes a bill in any status, by FID or by an unambiguous number', async () => {
    const fid = await loaded('DEL-1');
    const deleted = await adminJson(sandbox, 'DELETE', `/admin/bills/${fid}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: { FID: fid, FBillNo: 'DEL-1', FDocumentStatus: 'C' } });
    expect(await rowsOf('DEL-1')).toEqual([]);
    expect((await adminJson(sandbox, 'DELETE', `/admin/bills/${fid}`)).status).toBe(404);

    await loaded('DEL-2');
    await adminJson(sandbox, 'POST', '/admin/bills', { ...goldenModel('DEL-2'), allowDuplicateNumber: true });
    const ambiguous = await adminJson(sandbox, 'DELETE', '/admin/bills/by-number/DEL-2');
    expect(ambiguous.status).toBe(409);
    const fids = (ambiguous.body as { fids: number[] }).fids;
    expect(fids).toHaveLength(2);
    expect((await adminJson(sandbox, 'DELETE', `/admin/bills/${fids[1]}`)).status).toBe(200);
    expect((await adminJson(sandbox, 'DELETE', '/admin/bills/by-number/DEL-2')).status).toBe(200);
    expect(await rowsOf('DEL-2')).toEqual([]);
    expect((await adminJson(sandbox, 'DELETE', '/admin/bills/by-number/DEL-2')).status).toBe(404);
  });

  it('un-audits an audited bill (D by default, or back to A/B)', async () => {
    const fid = await loaded('UNA-1');
    const unaudited = await adminJson(sandbox, 'POST', `/admin/bills/${fid}/unaudit`);
    expect(unaudited.status).toBe(200);
    expect(unaudited.body).toMatchObject({ FDocumentStatus: 'D', FApproveDate: null });
    expect((await rowsOf('UNA-1')).map((r) => r.FDocumentStatus)).toEqual(['D', 'D']);
    const again = await adminJson(sandbox, 'POST', `/admin/bills/${fid}/unaudit`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ FDocumentStatus: 'D' });

    await loaded('UNA-2');
    const toCreated = await adminJson(sandbox, 'POST', '/admin/bills/by-number/UNA-2/unaudit', {
      status: 'A',
    });
    expect(toCreated.status).toBe(200);
    const audited = await pool.executeBillQueryObjects({
      FormId: 'PUR_MRB',
      FieldKeys: ['FBillNo'],
      FilterString: "FDocumentStatus='C' AND FBillNo LIKE 'UNA%'",
    });
    expect(audited).toEqual([]);
    expect((await adminJson(sandbox, 'POST', `/admin/bills/${fid}/unaudit`, { status: 'C' })).status).toBe(
      400,
    );
    expect((await adminJson(sandbox, 'POST', '/admin/bills/999999/unaudit')).status).toBe(404);
  });

  it("edits a line's quantity after audit, keeping the status and the line's FEntryID", async () => {
    const fid = await loaded('QTY-1');
    const before = await rowsOf('QTY-1');
    const edited = await adminJson(sandbox, 'PATCH', `/admin/bills/${fid}/entries/1`, { FRMREALQTY: '1.25' });
    expect(edited.status).toBe(200);
    const after = await rowsOf('QTY-1');
    expect(after).toEqual([
      before[0],
      { ...before[1], FRMREALQTY: 1.25, FDocumentStatus: 'C', FEntryID: before[1].FEntryID },
    ]);
    const byQuantity = await pool.executeBillQueryObjects({
      FormId: 'PUR_MRB',
      FieldKeys: ['FEntryID'],
      FilterString: `FID=${fid} AND FRMREALQTY=1.25`,
    });
    expect(byQuantity).toEqual([{ FEntryID: before[1].FEntryID }]);

    for (const bad of ['0', '0.000', '-1', 'abc', '1e3', 1.5, '']) {
      const reply = await adminJson(sandbox, 'PATCH', `/admin/bills/${fid}/entries/0`, { FRMREALQTY: bad });
      expect([bad, reply.status]).toEqual([bad, 400]);
    }
    const noLine = await adminJson(sandbox, 'PATCH', `/admin/bills/${fid}/entries/2`, { FRMREALQTY: '3' });
    expect(noLine.status).toBe(404);
    expect(noLine.body).toMatchObject({ error: expect.stringContaining('no line 2') as unknown });
    expect(
      (await adminJson(sandbox, 'PATCH', '/admin/bills/999999/entries/0', { FRMREALQTY: '3' })).status,
    ).toBe(404);
    expect(await rowsOf('QTY-1')).toEqual(after);
  });
  it('imports many bills by hand in one call, all validated before any is inserted', async () => {
    const models = ['IMP-1', 'IMP-2', 'IMP-3'].map((no) => goldenModel(no));
    const refused = await adminJson(sandbox, 'POST', '/admin/bills/import', {
      bills: [...models, goldenModel('IMP-4', { FSupplierID: { FNumber: 'NO-SUCH-SUPPLIER' } })],
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'bill 3: invalid bill', index: 3 });
    expect(await rowsOf('IMP-1')).toEqual([]);

    const imported = await adminJson(sandbox, 'POST', '/admin/bills/import', { bills: models, status: 'B' });
    expect(imported.status).toBe(201);
    const body = imported.body as { inserted: number; firstFid: number; lastFid: number };
    expect(body).toMatchObject({ inserted: 3 });
    expect(body.lastFid - body.firstFid).toBe(2);
    const rows = await rowsOf('IMP-2');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ FDocumentStatus: 'B', 'FMATERIALID.FNumber': 'BWB-500-W' });

    // A number in use stops the import there; the bills before it stay.
    const clash = await adminJson(sandbox, 'POST', '/admin/bills/import', {
      bills: [goldenModel('IMP-5'), goldenModel('IMP-1')],
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ error: 'bill 1: bill number IMP-1 is already in use', inserted: 1 });
    expect(await rowsOf('IMP-5')).toHaveLength(2);
  });
});
