import { ManualClock } from '@libs/common';
import { KingdeeConnection } from '../connection-circuit';
import { BaseDataRef } from './base-data-diagnosis';
import { BaseDataInspector } from './base-data-inspector';

const supplier = (code: string): BaseDataRef => ({
  form: 'BD_Supplier',
  noun: 'supplier',
  field: 'FSupplierID',
  code,
  org: '101',
  row: null,
});

/** A connection whose ExecuteBillQuery answers from `rows` (per form) and counts the queries. */
function fakeConnection(rows: Record<string, Array<Record<string, unknown>>>) {
  const queries: string[] = [];
  const connection = {
    id: 'fake',
    circuit: {
      withRetries: (_settings: unknown, fn: () => Promise<unknown>) => fn(),
      call: (fn: () => Promise<unknown>) => fn(),
    },
    api: {
      executeBillQueryObjects: async (q: { FormId: string }) => {
        queries.push(q.FormId);
        return rows[q.FormId] ?? [];
      },
    },
  } as unknown as KingdeeConnection;
  return { connection, queries };
}

describe('BaseDataInspector cache', () => {
  it('reuses a look-up for the TTL and asks Kingdee again once it has passed', async () => {
    const clock = new ManualClock(1_000);
    const inspector = new BaseDataInspector({
      ttlMs: 60_000,
      readRetry: { count: 0, initialDelayMs: 1, maxDelayMs: 1 },
      now: () => clock.now(),
    });
    const kingdee: Record<string, Array<Record<string, unknown>>> = { BD_Supplier: [] };
    const { connection, queries } = fakeConnection(kingdee);

    expect((await inspector.inspect(connection, [supplier('GYS999')]))[0].problem).toBe('missing');
    expect(queries).toEqual(['BD_Supplier']);

    // The supplier is added in Kingdee; within the TTL the cached answer stands, without a query.
    kingdee.BD_Supplier = [
      { FNumber: 'GYS999', 'FUseOrgId.FNumber': '101', FForbidStatus: 'A', FDocumentStatus: 'C' },
    ];
    clock.advance(59_999);
    expect((await inspector.inspect(connection, [supplier('gys999')]))[0].problem).toBe('missing');
    expect(queries).toHaveLength(1);

    // At the TTL the look-up is made again and sees the supplier.
    clock.advance(1);
    expect((await inspector.inspect(connection, [supplier('GYS999')]))[0]).toMatchObject({
      problem: 'usable',
      diagnosis: '',
    });
    expect(queries).toHaveLength(2);

    // `fresh` skips the cache even within the TTL.
    await inspector.inspect(connection, [supplier('GYS999')], { fresh: true });
    expect(queries).toHaveLength(3);
  });
});
