import { ManualClock, parseShanghai } from '@libs/common';
import type { Scheme } from '@libs/scheme';
import { shippedScheme } from '../../../../test/support/reconcile/reconcile-fixtures.util';
import { latestFire, ReconcileScheduler, scheduledRun, ScheduledRunSink } from './reconcile-scheduler';

const at = (text: string) => parseShanghai(text)!;

function scheme(
  id: string,
  reconcile: Partial<Scheme['reconcile']> = {},
  over: Partial<Scheme> = {},
): Scheme {
  const base = shippedScheme();
  return { ...base, ...over, id, reconcile: { ...base.reconcile, ...reconcile } };
}

/** A reconcile_runs table reduced to its unique (scheme, slot) index. */
class SlotTable implements ScheduledRunSink {
  readonly rows: Array<{ schemeId: string; slot: string; from: string; to: string }> = [];
  failNext = false;
  async create(r: Parameters<ScheduledRunSink['create']>[0]): Promise<string | undefined> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection reset');
    }
    if (this.rows.some((x) => x.schemeId === r.schemeId && x.slot === r.scheduleSlot)) return undefined;
    this.rows.push({ schemeId: r.schemeId, slot: r.scheduleSlot, from: r.from, to: r.to });
    return `run-${this.rows.length}`;
  }
}

describe('latestFire / scheduledRun', () => {
  it('finds the latest fire at or before now in the scheme timezone', () => {
    expect(latestFire('0 4 * * *', 'Asia/Shanghai', at('2026-11-28 04:00:00'))).toBe(
      at('2026-11-28 04:00:00'),
    );
    expect(latestFire('0 4 * * *', 'Asia/Shanghai', at('2026-11-28 03:59:59'))).toBe(
      at('2026-11-27 04:00:00'),
    );
    // 04:00 in UTC is 12:00 in Shanghai.
    expect(latestFire('0 4 * * *', 'UTC', at('2026-11-28 13:00:00'))).toBe(at('2026-11-28 12:00:00'));
    expect(latestFire('not a cron', 'Asia/Shanghai', at('2026-11-28 13:00:00'))).toBeUndefined();
  });

  it('covers reconcile.days whole Shanghai days before the date the cron fired', () => {
    expect(scheduledRun(scheme('s1'), at('2026-12-01 04:00:00'))).toEqual({
      schemeId: 's1',
      slot: '2026-12-01',
      firedAt: at('2026-12-01 04:00:00'),
      from: '2026-11-30 00:00:00',
      to: '2026-11-30 23:59:59',
    });
    const week = scheduledRun(scheme('s1', { days: 7 }), at('2026-03-01 00:30:00'));
    expect([week.slot, week.from, week.to]).toEqual([
      '2026-03-01',
      '2026-02-22 00:00:00',
      '2026-02-28 23:59:59',
    ]);
    // The slot is the Shanghai date even when the cron's zone is another one.
    expect(scheduledRun(scheme('s1'), at('2026-12-01 23:30:00')).slot).toBe('2026-12-01');
  });
});

describe('ReconcileScheduler', () => {
  it('queues one run when the cron fires, and none before', async () => {
    const clock = new ManualClock(at('2026-11-28 03:00:00'));
    const table = new SlotTable();
    const s = new ReconcileScheduler({ schemes: () => [scheme('s1')], runs: table, clock });
    // Boot at 03:00: yesterday's 04:00 fired 23 h ago and has no run: caught up.
    expect((await s.tick()).map((r) => r.slot)).toEqual(['2026-11-27']);
    clock.set(at('2026-11-28 03:59:00'));
    expect(await s.tick()).toEqual([]);
    clock.set(at('2026-11-28 04:00:20'));
    const fired = await s.tick();
    expect(fired.map((r) => [r.slot, r.from, r.to])).toEqual([
      ['2026-11-28', '2026-11-27 00:00:00', '2026-11-27 23:59:59'],
    ]);
    clock.set(at('2026-11-28 09:00:00'));
    expect(await s.tick()).toEqual([]);
    expect(table.rows.map((r) => r.slot)).toEqual(['2026-11-27', '2026-11-28']);
  });

  it('catches up on boot only a slot that fired within the last 24 h', async () => {
    const table = new SlotTable();
    // A weekly cron that fired 3 days ago (more than 24 h) is not caught up; its next fire is.
    const weekly = scheme('s2', { cron: '0 4 * * 1', days: 7 });
    const clock = new ManualClock(at('2026-11-26 10:00:00')); // Thursday
    const s = new ReconcileScheduler({ schemes: () => [weekly], runs: table, clock });
    expect(await s.tick()).toEqual([]);
    clock.set(at('2026-11-30 04:00:01')); // Monday
    expect((await s.tick()).map((r) => [r.slot, r.from, r.to])).toEqual([
      ['2026-11-30', '2026-11-23 00:00:00', '2026-11-29 23:59:59'],
    ]);
  });

  it('inserts exactly one run per slot with two replicas on one table', async () => {
    const table = new SlotTable();
    const clock = new ManualClock(at('2026-11-28 04:00:05'));
    const a = new ReconcileScheduler({ schemes: () => [scheme('s1')], runs: table, clock });
    const b = new ReconcileScheduler({ schemes: () => [scheme('s1')], runs: table, clock });
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect(ra.length + rb.length).toBe(1);
    expect(table.rows).toHaveLength(1);
    // A restart the same day finds the slot taken.
    const c = new ReconcileScheduler({ schemes: () => [scheme('s1')], runs: table, clock });
    expect(await c.tick()).toEqual([]);
  });

  it('skips schemes with reconcile.enabled false or the scheme disabled, and follows reloads', async () => {
    const table = new SlotTable();
    const clock = new ManualClock(at('2026-11-28 05:00:00'));
    let schemes = [scheme('off', { enabled: false }), scheme('paused', {}, { enabled: false }), scheme('on')];
    const s = new ReconcileScheduler({ schemes: () => schemes, runs: table, clock });
    expect((await s.tick()).map((r) => r.schemeId)).toEqual(['on']);
    // Turned on by a file edit: its slot of today is caught up.
    schemes = [scheme('off'), scheme('on')];
    expect((await s.tick()).map((r) => r.schemeId)).toEqual(['off']);
  });

  it('tries a failed insert again at the next tick', async () => {
    const table = new SlotTable();
    const clock = new ManualClock(at('2026-11-28 04:00:00'));
    const s = new ReconcileScheduler({ schemes: () => [scheme('s1')], runs: table, clock });
    table.failNext = true;
    expect(await s.tick()).toEqual([]);
    clock.advance(30_000);
    expect((await s.tick()).map((r) => r.slot)).toEqual(['2026-11-28']);
  });
});
