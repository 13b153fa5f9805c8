import { buildBillNoFilter, findBillsByField, type KingdeeClient } from '@libs/kingdee-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { goldenModel, newClient, SEED_SAVE_OPTIONS } from './kingdee-test.support';

describe('BatchSave, Submit/Audit and ExecuteBillQuery against the sandbox', () => {
  let sandbox: KingdeeSandbox;
  let client: KingdeeClient;

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0 });
    client = newClient(sandbox);
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset());

  const unknownMaterial = (billNo: string): Record<string, unknown> =>
    goldenModel(billNo, {
      FPURMRBENTRY: [
        { FMATERIALID: { FNumber: 'NO-SUCH-SKU' }, FRMREALQTY: 1, FSTOCKID: { FNumber: 'SH01' } },
      ],
    });

  describe('mixed success reports per-DIndex results', () => {
    it('keep_successes: the good models stay saved', async () => {
      const result = await client.batchSave(
        'PUR_MRB',
        [goldenModel('M1'), unknownMaterial('M2'), goldenModel('M3')],
        {
          isAutoSubmitAndAudit: true,
          isVerifyBaseDataField: true,
        },
      );
      expect(result.status.isSuccess).toBe(false);
      expect(result.status.msgCode).toBe(9);
      expect(result.outcomes.map((o) => [o.dIndex, o.status, o.number])).toEqual([
        [0, 'saved', 'M1'],
        [1, 'failed', null],
        [2, 'saved', 'M3'],
      ]);
      expect(result.outcomes[1].errors).toEqual([
        expect.objectContaining({
          fieldName: 'FMATERIALID',
          dIndex: 1,
          message: expect.stringContaining('NO-SUCH-SKU'),
        }),
      ]);
      const rows = await client.executeBillQuery({
        FormId: 'PUR_MRB',
        FieldKeys: 'FBillNo,FDocumentStatus',
        FilterString: buildBillNoFilter('FBillNo', ['M1', 'M2', 'M3']),
      });
      expect(rows).toEqual([
        ['M1', 'C'],
        ['M3', 'C'],
      ]);
    });

    it('rollback_all: nothing is saved, the good models are unreported', async () => {
      sandbox.setSwitches({ atomicity: 'rollback_all' });
      const result = await client.batchSave(
        'PUR_MRB',
        [goldenModel('R1'), unknownMaterial('R2'), goldenModel('R3')],
        {
          isVerifyBaseDataField: true,
        },
      );
      expect(result.status.isSuccess).toBe(false);
      expect(result.status.successEntities).toEqual([]);
      expect(result.outcomes.map((o) => o.status)).toEqual(['unreported', 'failed', 'unreported']);
      expect(sandbox.store.count()).toBe(0);
      const rows = await client.executeBillQuery({
        FormId: 'PUR_MRB',
        FieldKeys: 'FBillNo',
        FilterString: "FBillNo in ('R1','R2','R3')",
      });
      expect(rows).toEqual([]);
    });
  });

  it('without base-data verification an unknown reference is dropped and fails the required check', async () => {
    const result = await client.batchSave('PUR_MRB', [unknownMaterial('U1')], SEED_SAVE_OPTIONS);
    expect(result.outcomes[0].status).toBe('failed');
    expect(result.status.msgCode).toBe(11);
    expect(result.outcomes[0].errors).toEqual([
      expect.objectContaining({ fieldName: 'FMATERIALID', message: expect.stringContaining('必填') }),
    ]);
  });

  it('disabled base data fails verification like unknown data', async () => {
    sandbox.store.seedBaseData({ suppliers: [{ number: 'GYS008', enabled: false }] });
    const result = await client.batchSave(
      'PUR_MRB',
      [goldenModel('DIS1', { FSupplierID: { FNumber: 'GYS008' } })],
      { isVerifyBaseDataField: true },
    );
    expect(result.outcomes[0].errors[0]).toMatchObject({ fieldName: 'FSupplierID' });
  });

  it('checks the default required fields and quantity > 0', async () => {
    const bad = goldenModel('Q1', {
      FDate: undefined,
      FPURMRBENTRY: [{ FMATERIALID: { FNumber: 'FH-L' }, FRMREALQTY: 0, FSTOCKID: { FNumber: 'SH01' } }],
    });
    const result = await client.batchSave('PUR_MRB', [bad]);
    expect(result.outcomes[0].errors.map((e) => e.fieldName)).toEqual(['FDate', 'FRMREALQTY']);
  });

  it('an extra required field (FTAXPRICE) can be switched on', async () => {
    sandbox.setSwitches({ extraRequiredEntryFields: ['FTAXPRICE'] });
    const result = await client.batchSave('PUR_MRB', [goldenModel('T1')]);
    expect(result.outcomes[0].errors.map((e) => e.fieldName)).toEqual(['FTAXPRICE', 'FTAXPRICE']);
    const priced = goldenModel('T2');
    for (const line of priced.FPURMRBENTRY as Array<Record<string, unknown>>) line.FTAXPRICE = 12.5;
    expect((await client.batchSave('PUR_MRB', [priced])).outcomes[0].status).toBe('saved');
  });

  it('duplicate FBillNo on create: reject or accept', async () => {
    await client.batchSave('PUR_MRB', [goldenModel('DUP')]);
    const rejected = await client.batchSave('PUR_MRB', [goldenModel('DUP')]);
    expect(rejected.outcomes[0]).toMatchObject({
      status: 'failed',
      errors: [expect.objectContaining({ fieldName: 'FBillNo' })],
    });
    sandbox.setSwitches({ duplicateBillNo: 'accept' });
    const accepted = await client.batchSave('PUR_MRB', [goldenModel('DUP')]);
    expect(accepted.outcomes[0].status).toBe('saved');
    expect(sandbox.store.count({ billNo: 'DUP' })).toBe(2);
  });

  it('a Model with the FID of a saved bill updates it', async () => {
    const saved = await client.save('PUR_MRB', goldenModel('UP1'));
    const fid = saved.outcomes[0].id;
    const updated = await client.save('PUR_MRB', { FID: Number(fid), FDESCRIPTION: 'changed' });
    expect(updated.outcomes[0]).toMatchObject({ status: 'saved', id: fid, number: 'UP1' });
    const rows = await client.executeBillQueryObjects({
      FormId: 'PUR_MRB',
      FieldKeys: 'FID,FDESCRIPTION',
      FilterString: `FID=${fid}`,
    });
    expect(rows).toEqual([{ FID: Number(fid), FDESCRIPTION: 'changed' }]);
    expect(sandbox.store.count()).toBe(1);
  });

  it('Save → Submit → Audit as separate calls moves A → B → C; wrong order is refused', async () => {
    await client.save('PUR_MRB', goldenModel('S1'));
    const status = async (): Promise<unknown> =>
      (
        await client.executeBillQuery({
          FormId: 'PUR_MRB',
          FieldKeys: 'FDocumentStatus',
          FilterString: "FBillNo='S1'",
        })
      )[0][0];
    expect(await status()).toBe('A');
    const early = await client.audit('PUR_MRB', { numbers: ['S1'] });
    expect(early.status.isSuccess).toBe(false);
    expect((await client.submit('PUR_MRB', { numbers: ['S1'] })).status.successEntities[0].number).toBe('S1');
    expect(await status()).toBe('B');
    expect((await client.audit('PUR_MRB', { numbers: ['S1'] })).status.isSuccess).toBe(true);
    expect(await status()).toBe('C');
    const missing = await client.submit('PUR_MRB', { numbers: ['NOPE'] });
    expect(missing.status).toMatchObject({ isSuccess: false, msgCode: 10 });
  });

  describe('ExecuteBillQuery', () => {
    beforeEach(async () => {
      const models = Array.from({ length: 5 }, (_, i) =>
        goldenModel(`Q${i}`, {
          FDESCRIPTION: `src-${i}`,
          F_XXX_SourceNo: `SRC-${i}`,
          FSupplierID: { FNumber: `GYS00${i + 1}` },
        }),
      );
      await client.batchSave('PUR_MRB', models, SEED_SAVE_OPTIONS);
    });

    it('filters on another header field with = and in, and on base-data numbers', async () => {
      const q = (filter: string): Promise<unknown[][]> =>
        client.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FBillNo', FilterString: filter });
      expect(await q("FDESCRIPTION='src-2'")).toEqual([['Q2']]);
      expect(await q("F_XXX_SourceNo in ('SRC-1','SRC-3','SRC-9')")).toEqual([['Q1'], ['Q3']]);
      expect(await q("FSupplierID.FNumber='GYS005' and FDocumentStatus='C'")).toEqual([['Q4']]);
      expect(await q("FBillNo='q0' or (FDESCRIPTION like 'src-4%' and not FBillNo in ('Q0'))")).toEqual([
        ['Q0'],
        ['Q4'],
      ]);
    });

    it('selects field keys, returns dates as yyyy-MM-ddTHH:mm:ss, one row per entry for entry fields', async () => {
      const rows = await client.executeBillQueryObjects({
        FormId: 'PUR_MRB',
        FieldKeys: ['FBillNo', 'FDate', 'FMATERIALID.FNumber', 'FRMREALQTY', 'FSTOCKID.FNumber'],
        FilterString: "FBillNo='Q0'",
      });
      expect(rows).toEqual([
        {
          FBillNo: 'Q0',
          FDate: '2026-11-28T01:30:00',
          'FMATERIALID.FNumber': 'BWB-500-W',
          FRMREALQTY: 2,
          'FSTOCKID.FNumber': 'SH01',
        },
        {
          FBillNo: 'Q0',
          FDate: '2026-11-28T01:30:00',
          'FMATERIALID.FNumber': 'FH-L',
          FRMREALQTY: 0.5,
          'FSTOCKID.FNumber': 'SH01',
        },
      ]);
    });

    it('pages with TopRowCount / StartRow / Limit and orders', async () => {
      const q = (extra: Record<string, unknown>): Promise<unknown[][]> =>
        client.executeBillQuery({
          FormId: 'PUR_MRB',
          FieldKeys: 'FBillNo',
          OrderString: 'FBillNo DESC',
          ...extra,
        });
      expect(await q({ StartRow: 1, Limit: 2 })).toEqual([['Q3'], ['Q2']]);
      expect(await q({ TopRowCount: 3, StartRow: 2, Limit: 10 })).toEqual([['Q2']]);
      sandbox.setSwitches({ queryMaxLimit: 2 });
      expect(await q({ Limit: 0 })).toHaveLength(2);
    });

    it('findBillsByField pages through an idempotency-key lookup', async () => {
      const rows = await findBillsByField(client, {
        formId: 'PUR_MRB',
        field: 'F_XXX_SourceNo',
        values: ['SRC-0', 'SRC-2', 'SRC-4', 'SRC-7'],
        chunkSize: 2,
        pageSize: 1,
      });
      expect(rows.map((r) => r.FBillNo)).toEqual(['Q0', 'Q2', 'Q4']);
    });

    it('unknown fields and bad filters come back as wrapped errors the client throws', async () => {
      const unknown = await client
        .executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FNoSuchField', FilterString: '' })
        .catch((e: unknown) => e);
      expect(unknown).toMatchObject({ kind: 'permanent', msgCode: 9 });
      const syntax = await client
        .executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID', FilterString: "FBillNo='unterminated" })
        .catch((e: unknown) => e);
      expect(syntax).toMatchObject({ kind: 'permanent', msgCode: 8 });
    });
  });
});
