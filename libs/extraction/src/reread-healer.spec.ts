import { InspectedRecord } from './record-inspector';
import { RereadHealer } from './reread-healer';

const ok = (id: string, position: number, version = 'v1'): InspectedRecord => ({
  ok: true,
  orderNo: `CT-${id}`,
  stockoutId: id,
  record: { stockout_id: id, order_no: `CT-${id}`, version },
  pageNo: 0,
  position,
});
const bad = (position: number, stockoutId?: string): InspectedRecord => ({
  ok: false,
  problem: 'broken',
  sourceKey: stockoutId ? `stockout:${stockoutId}` : 'hash:0123456789abcdef',
  stockoutId,
  record: stockoutId ? { stockout_id: stockoutId } : null,
  pageNo: 0,
  position,
});

describe('RereadHealer', () => {
  const healer = new RereadHealer();

  it('keeps the re-read as it is when it is clean', () => {
    const reread = [ok('1', 0, 'v2'), ok('2', 1)];
    expect(healer.heal(reread, [bad(0, '1'), bad(1)])).toEqual(reread);
  });

  it('heals a record broken only in the re-read by its good copy (same stockout id)', () => {
    expect(healer.heal([ok('1', 0), bad(1, '2')], [ok('1', 0), ok('2', 1)])).toEqual([
      ok('1', 0),
      ok('2', 1),
    ]);
  });

  it('heals a null in the re-read by the good record that sat in its place and is now missing', () => {
    expect(healer.heal([ok('1', 0), bad(1)], [ok('1', 0), ok('2', 1)])).toEqual([ok('1', 0), ok('2', 1)]);
    // …but not by a record the re-read still has elsewhere.
    expect(healer.heal([bad(0), ok('1', 1)], [ok('1', 0), ok('2', 1)])[0]).toMatchObject({ ok: false });
  });

  it('confirms what is broken in both reads', () => {
    expect(healer.heal([ok('1', 0), bad(1)], [ok('1', 0), bad(1)])[1]).toMatchObject({ ok: false });
    expect(healer.heal([bad(0, '7')], [bad(0, '7')])[0]).toMatchObject({
      ok: false,
      sourceKey: 'stockout:7',
    });
  });
});
