import { reconcileStreams } from './reconcile-merge';
import { ReconcileInputError } from './reconcile.errors';
import type {
  KeyReconciliation,
  SourceEntry,
  TargetBill,
  TargetBillGroup,
  TrailLookup,
  TrailView,
} from './reconcile.types';
import { shippedPlan } from '../../../test/support/reconcile/reconcile-fixtures.util';

const plan = shippedPlan();

/** A model and the bill matching it for a key (one line; quantity as Kingdee returns it). */
function model(key: string, qty = '2.0000'): Record<string, unknown> {
  return {
    FBillNo: key,
    FDate: '2026-11-28 01:30:00',
    FSupplierID: { FNumber: 'GYS001' },
    FPURMRBENTRY: [{ FMATERIALID: { FNumber: 'M1' }, FRMREALQTY: Number(qty) }],
  };
}
function bill(key: string, fid: string, qty = 2): TargetBill {
  const header = {
    FID: fid,
    FBillNo: key,
    FDocumentStatus: 'C',
    FDate: '2026-11-28T00:00:00',
    'FSupplierID.FNumber': 'GYS001',
  };
  return {
    fid,
    billNo: key,
    key,
    documentStatus: 'C',
    header,
    entries: { FPURMRBENTRY: [{ ...header, 'FMATERIALID.FNumber': 'M1', FRMREALQTY: qty }] },
  };
}
const doc = (key: string, qty?: string): SourceEntry => ({
  key,
  orderNo: key,
  outcome: 'document',
  model: model(key, qty),
});

async function* stream<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const i of items) yield i;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
function mapTrail(entries: Record<string, TrailView>, calls: string[][] = []): TrailLookup {
  return {
    lookup: async (keys) => {
      calls.push([...keys]);
      return new Map(keys.filter((k) => entries[k]).map((k) => [k, entries[k]]));
    },
  };
}
const summary = (r: KeyReconciliation[]): string[] =>
  r.map((k) => `${k.key}:${k.findings.map((f) => f.kind).join('+')}`);

describe('reconcileStreams', () => {
  it('merges both sides key by key with the trail, in key order', async () => {
    const calls: string[][] = [];
    const source = [
      doc('A'),
      doc('B'),
      doc('C', '5'),
      doc('E'),
      { key: 'F', orderNo: 'F', outcome: 'skipped', reason: 'cancelled' } as SourceEntry,
    ];
    const target: TargetBillGroup[] = [
      { key: 'A', bills: [bill('A', '1')] },
      { key: 'C', bills: [bill('C', '3')] },
      { key: 'D', bills: [bill('D', '4')] },
      { key: 'E', bills: [bill('E', '5'), bill('E', '6')] },
    ];
    const trail = mapTrail(
      { A: { status: 'failed', billState: 'none' }, B: { status: 'parked', billState: 'none' } },
      calls,
    );
    const out = await collect(
      reconcileStreams({ plan, source: stream(source), target: stream(target), trail, batchSize: 2 }),
    );
    expect(summary(out)).toEqual([
      'A:matched+trail_disagrees',
      'B:missing_in_erp',
      'C:differs',
      'D:extra_in_erp',
      'E:duplicated_in_erp',
      'F:',
    ]);
    expect(calls).toEqual([
      ['A', 'B'],
      ['C', 'D'],
      ['E', 'F'],
    ]);
  });

  it('folds a key’s bills split over two groups, and the same order read twice', async () => {
    const out = await collect(
      reconcileStreams({
        plan,
        source: stream([doc('A', '1'), doc('A', '2')]),
        target: stream([
          { key: 'A', bills: [bill('A', '1')] },
          { key: 'A', bills: [bill('A', '2')] },
        ]),
        trail: mapTrail({}),
      }),
    );
    expect(summary(out)).toEqual(['A:duplicated_in_erp']);
  });

  it('refuses inputs out of order, and two orders on one key', async () => {
    const run = (source: SourceEntry[], target: TargetBillGroup[]) =>
      collect(
        reconcileStreams({ plan, source: stream(source), target: stream(target), trail: mapTrail({}) }),
      );
    await expect(run([doc('B'), doc('A')], [])).rejects.toThrow(ReconcileInputError);
    await expect(
      run(
        [],
        [
          { key: 'B', bills: [] },
          { key: 'A', bills: [] },
        ],
      ),
    ).rejects.toThrow(/target keys out of order/);
    await expect(run([doc('A'), { ...doc('A'), orderNo: 'other' }], [])).rejects.toThrow(/not unique/);
  });

  it('honours a custom key order', async () => {
    const byNumber = (a: string, b: string) => Number(a) - Number(b);
    const out = await collect(
      reconcileStreams({
        plan,
        source: stream([doc('9'), doc('10')]),
        target: stream([]),
        trail: mapTrail({}),
        compareKeys: byNumber,
      }),
    );
    expect(out.map((k) => k.key)).toEqual(['9', '10']);
  });

  it('closes both inputs when the consumer stops early', async () => {
    let closed = 0;
    async function* counted(n: number): AsyncGenerator<SourceEntry> {
      try {
        for (let i = 0; i < n; i++) yield doc(`K${String(i).padStart(6, '0')}`);
      } finally {
        closed++;
      }
    }
    for await (const k of reconcileStreams({
      plan,
      source: counted(10),
      target: counted(0) as never,
      trail: mapTrail({}),
      batchSize: 2,
    })) {
      if (k.key === 'K000002') break;
    }
    expect(closed).toBe(2);
  });

  it('streams 100,000 keys in bounded memory: never more than a batch ahead of its consumer', async () => {
    const N = 100_000;
    const batchSize = 500;
    const key = (i: number) => `CT${String(i).padStart(9, '0')}`;
    const indexOf = (k: string) => Number(k.slice(2));
    // Furthest index each input has produced so far.
    const reached = { source: -1, target: -1 };
    // Every 7th order has no bill, every 11th bill has no order, every 13th key has two bills.
    async function* source(): AsyncGenerator<SourceEntry> {
      for (let i = 0; i < N; i++) {
        if (i % 11 === 0) continue;
        reached.source = i;
        yield doc(key(i));
      }
    }
    async function* target(): AsyncGenerator<TargetBillGroup> {
      for (let i = 0; i < N; i++) {
        if (i % 7 === 0) continue;
        reached.target = i;
        yield {
          key: key(i),
          bills: i % 13 === 0 ? [bill(key(i), `${i}`), bill(key(i), `${i}b`)] : [bill(key(i), `${i}`)],
        };
      }
    }
    const batches: number[] = [];
    const trail: TrailLookup = {
      lookup: async (keys) => {
        batches.push(keys.length);
        return new Map();
      },
    };
    const counts: Record<string, number> = {};
    let seen = 0;
    let maxAhead = 0;
    for await (const k of reconcileStreams({ plan, source: source(), target: target(), trail, batchSize })) {
      seen++;
      // How far the inputs were read beyond the key being handed out: bounded by one batch.
      maxAhead = Math.max(maxAhead, Math.max(reached.source, reached.target) - indexOf(k.key));
      for (const f of k.findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    }
    const count = (p: (i: number) => boolean) => Array.from({ length: N }, (_, i) => i).filter(p).length;
    const neither = count((i) => i % 7 === 0 && i % 11 === 0);
    const noBill = count((i) => i % 7 === 0 && i % 11 !== 0);
    const noOrder = count((i) => i % 11 === 0 && i % 7 !== 0);
    const dup = count((i) => i % 13 === 0 && i % 7 !== 0 && i % 11 !== 0);
    expect(seen).toBe(N - neither);
    expect(maxAhead).toBeLessThanOrEqual(batchSize * 1.1);
    expect(Math.max(...batches)).toBe(batchSize);
    expect(counts).toEqual({
      missing_in_erp: noBill,
      extra_in_erp: noOrder,
      duplicated_in_erp: dup,
      matched: N - neither - noBill - noOrder - dup,
    });
  });
});
