import { findBillsByField, type KingdeeClient } from '@libs/kingdee-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { goldenModel, newClient, newPool, rejection, SEED_SAVE_OPTIONS } from './kingdee-test.support';

describe('fault knobs and unconfirmed-behaviour switches against the sandbox', () => {
  let sandbox: KingdeeSandbox;
  let client: KingdeeClient;

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    sandbox.reset();
    client = newClient(sandbox, { timeoutMs: 1_000 });
    await client.ensureSession();
  });

  describe('lost response', () => {
    it.each(['destroy', 'hold'] as const)(
      '%s: the client raises ambiguous and a later query finds the bill',
      async (mode) => {
        sandbox.setKnobs({ nextLostResponses: 1, lostResponseMode: mode });
        const err = await rejection(
          client.batchSave('PUR_MRB', [goldenModel(`LOST-${mode}`)], SEED_SAVE_OPTIONS),
        );
        expect(err.kind).toBe('ambiguous');
        expect(err.mayHaveWritten).toBe(true);
        expect(err.code).toBe('KD_RESPONSE_LOST');
        const found = await findBillsByField(client, {
          formId: 'PUR_MRB',
          field: 'FBillNo',
          values: [`LOST-${mode}`],
        });
        expect(found).toEqual([{ FID: expect.any(Number), FBillNo: `LOST-${mode}`, FDocumentStatus: 'C' }]);
        expect(sandbox.stats.snapshot().byService['DynamicFormService.BatchSave']).toEqual({
          lost_response: 1,
        });
      },
    );

    it('the lost-response knob only fires on writes', async () => {
      sandbox.setKnobs({ nextLostResponses: 1 });
      // The knob only fires on writes: the query goes through and the knob stays armed for the next write.
      expect(await client.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID' })).toEqual([]);
      expect(sandbox.knobs().nextLostResponses).toBe(1);
    });
  });

  it('throttling (MsgCode 14) is a transient error and nothing is saved', async () => {
    sandbox.setKnobs({ nextThrottles: 1 });
    const err = await rejection(client.batchSave('PUR_MRB', [goldenModel('TH1')]));
    expect(err).toMatchObject({ kind: 'transient', code: 'KD_THROTTLED', msgCode: 14 });
    expect(sandbox.store.count()).toBe(0);
    expect((await client.batchSave('PUR_MRB', [goldenModel('TH1')])).outcomes[0].status).toBe('saved');
  });

  it('throttling a query is transient too', async () => {
    sandbox.setKnobs({ nextThrottles: 1 });
    const err = await rejection(client.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID' }));
    expect(err).toMatchObject({ kind: 'transient', msgCode: 14 });
  });

  it.each([500, 503])(
    'HTTP %i on a write is ambiguous (it may come after the commit), on a query transient',
    async (status) => {
      sandbox.setKnobs({ next5xx: 1, http5xxStatus: status });
      const err = await rejection(client.batchSave('PUR_MRB', [goldenModel('H1')]));
      expect(err).toMatchObject({ kind: 'ambiguous', code: 'KD_HTTP_5XX', httpStatus: status });
      // This one came before anything was applied: a look-up finds nothing.
      expect(sandbox.store.count()).toBe(0);
      sandbox.setKnobs({ next5xx: 1, http5xxStatus: status });
      const read = await rejection(client.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FID' }));
      expect(read).toMatchObject({ kind: 'transient', code: 'KD_HTTP_5XX' });
    },
  );

  it('numbering rule: the ERP number replaces FBillNo and the idempotency field finds the bill', async () => {
    sandbox.setSwitches({ numbering: 'erp', numberPrefix: 'CGTL', numberDigits: 6 });
    const supplied = 'CT2026112800012';
    const result = await client.batchSave(
      'PUR_MRB',
      [goldenModel(supplied, { F_XXX_SourceNo: supplied, FDESCRIPTION: `WDT ${supplied}` })],
      SEED_SAVE_OPTIONS,
    );
    const number = result.outcomes[0].number;
    expect(number).toMatch(/^CGTL\d{6}$/);
    expect(number).not.toBe(supplied);
    expect(
      await findBillsByField(client, { formId: 'PUR_MRB', field: 'FBillNo', values: [supplied] }),
    ).toEqual([]);
    const bySource = await findBillsByField(client, {
      formId: 'PUR_MRB',
      field: 'F_XXX_SourceNo',
      values: [supplied],
    });
    expect(bySource).toEqual([
      { FID: Number(result.outcomes[0].id), FBillNo: number, FDocumentStatus: 'C', F_XXX_SourceNo: supplied },
    ]);
    const byRemark = await client.executeBillQuery({
      FormId: 'PUR_MRB',
      FieldKeys: 'FBillNo',
      FilterString: `FDESCRIPTION='WDT ${supplied}'`,
    });
    expect(byRemark).toEqual([[number]]);
  });

  it('the sandbox serialises per session; a pool of sessions runs calls in parallel', async () => {
    sandbox.setKnobs({ latencyMs: 30 });
    const pool = newPool(sandbox, { sessions: 3 });
    await pool.ensureSessions();
    sandbox.stats.reset();
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => pool.batchSave('PUR_MRB', [goldenModel(`PAR${i}`)])),
    );
    const stats = sandbox.stats.snapshot();
    expect(stats.maxInFlightPerSession).toBe(1);
    expect(stats.maxInFlight).toBeGreaterThan(1);
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(sandbox.store.count()).toBe(6);
    // One client firing in parallel on a single session is serialised by the server.
    sandbox.stats.reset();
    await Promise.all(
      Array.from({ length: 3 }, (_, i) => client.batchSave('PUR_MRB', [goldenModel(`SER${i}`)])),
    );
    expect(sandbox.stats.snapshot().maxInFlightPerSession).toBe(1);
  });

  it('rate knobs are reproducible with a seed', async () => {
    const other = await startKingdeeSandbox({ port: 0, seed: 7, knobs: { throttleRate: 0.5 } });
    const again = await startKingdeeSandbox({ port: 0, seed: 7, knobs: { throttleRate: 0.5 } });
    try {
      const outcomes = async (sb: KingdeeSandbox): Promise<string[]> => {
        const c = newClient(sb);
        const out: string[] = [];
        for (let i = 0; i < 12; i += 1) {
          out.push(
            await c.batchSave('PUR_MRB', [goldenModel(`RND${i}`)]).then(
              () => 'ok',
              (e: { code: string }) => e.code,
            ),
          );
        }
        return out;
      };
      const a = await outcomes(other);
      expect(a).toContain('KD_THROTTLED');
      expect(a).toContain('ok');
      expect(await outcomes(again)).toEqual(a);
    } finally {
      await other.close();
      await again.close();
    }
  });
});
