import {
  BudgetRequest,
  decideGrant,
  fairShare,
  fallbackLimit,
  msUntilRoom,
  planGrants,
} from './wdt-budget.util';

const used = (entries: Record<string, number>) => new Map(Object.entries(entries));
const normal = (scheme: string, limit = 10): BudgetRequest => ({ scheme, priority: 'normal', limit });
const background = (scheme: string, limit = 10): BudgetRequest => ({ scheme, priority: 'background', limit });

describe('fair share arithmetic', () => {
  it('is floor(L ÷ schemes with a backlog)', () => {
    expect(fairShare(60, 1)).toBe(60);
    expect(fairShare(60, 7)).toBe(8);
    expect(fairShare(10, 3)).toBe(3);
    expect(fairShare(10, 0)).toBe(10);
  });

  it('refuses any call when L calls started in the window', () => {
    expect(decideGrant({ inWindow: 10, usedBy: used({ a: 10 }), waiting: [] }, normal('a'))).toEqual({
      grant: false,
      reason: 'full',
    });
  });

  it('lets a scheme past its share only while no scheme below its share waits (work-conserving)', () => {
    const view = { inWindow: 6, usedBy: used({ heavy: 6 }), waiting: [normal('heavy')] };
    expect(decideGrant(view, normal('heavy'))).toEqual({ grant: true });
    const contested = { ...view, waiting: [normal('heavy'), normal('light')] };
    expect(decideGrant(contested, normal('heavy'))).toEqual({ grant: false, reason: 'fair-share' });
    expect(decideGrant(contested, normal('light'))).toEqual({ grant: true });
    // Below its own share a scheme goes even if others are further below.
    const early = { inWindow: 2, usedBy: used({ heavy: 2 }), waiting: [normal('heavy'), normal('light')] };
    expect(decideGrant(early, normal('heavy'))).toEqual({ grant: true });
  });

  it('counts only the lane asked for when sharing, and background only when no normal call waits', () => {
    const view = { inWindow: 1, usedBy: used({ sweep: 1 }), waiting: [background('sweep'), normal('poll')] };
    expect(decideGrant(view, background('sweep'))).toEqual({ grant: false, reason: 'priority' });
    // Background schemes waiting do not shrink the normal lane's shares.
    const lanes = { inWindow: 5, usedBy: used({ poll: 5 }), waiting: [background('sweep'), normal('poll')] };
    expect(decideGrant(lanes, normal('poll'))).toEqual({ grant: true });
    const alone = { inWindow: 9, usedBy: used({ sweep: 9 }), waiting: [background('sweep')] };
    expect(decideGrant(alone, background('sweep'))).toEqual({ grant: true });
  });

  it('plans grants so every backlogged scheme reaches floor(L ÷ n), never more than L in all', () => {
    const waiters = [
      ...Array.from({ length: 12 }, () => normal('heavy')),
      normal('light'),
      normal('light'),
      normal('light'),
      normal('light'),
      normal('light'),
    ];
    const granted = planGrants({ inWindow: 0, usedBy: used({}), others: [] }, waiters);
    expect(granted).toHaveLength(10);
    const byScheme = (s: string) => granted.filter((i) => waiters[i].scheme === s).length;
    expect(byScheme('heavy')).toBe(5);
    expect(byScheme('light')).toBe(5);
  });

  it('keeps room for another process’s waiting scheme and goes on once nobody below its share waits', () => {
    const waiters = Array.from({ length: 8 }, () => normal('heavy'));
    const contested = planGrants(
      { inWindow: 2, usedBy: used({ other: 2 }), others: [normal('other')] },
      waiters,
    );
    expect(contested).toHaveLength(5); // heavy up to its share; 3 left for `other` (below its share of 5)
    const alone = planGrants({ inWindow: 2, usedBy: used({ other: 2 }), others: [] }, waiters);
    expect(alone).toHaveLength(8);
  });

  it('grants normal before background in one process, background only with no normal left', () => {
    const waiters = [background('sweep'), normal('poll'), normal('poll')];
    expect(planGrants({ inWindow: 7, usedBy: used({}), others: [] }, waiters)).toEqual([1, 2, 0]);
    expect(planGrants({ inWindow: 8, usedBy: used({}), others: [] }, waiters)).toEqual([1, 2]);
    expect(
      planGrants({ inWindow: 0, usedBy: used({}), others: [normal('elsewhere')] }, [background('sweep')]),
    ).toEqual([]);
  });

  it('says when room opens from the log of starts', () => {
    const starts = [1000, 1500, 1600];
    expect(msUntilRoom(starts, 4, 2000, 2000)).toBe(0);
    // Three in the window, limit 3: the oldest (1000) leaves at 3000.
    expect(msUntilRoom(starts, 3, 2000, 2000)).toBe(1001);
    // Limit 2: room once 1500 leaves too.
    expect(msUntilRoom(starts, 2, 2000, 2000)).toBe(1501);
    // Starts already outside the window do not count.
    expect(msUntilRoom(starts, 2, 2000, 3200)).toBe(301);
    expect(msUntilRoom(starts, 2, 2000, 3550)).toBe(0);
  });
});

describe('fallback arithmetic', () => {
  it('is L ÷ max(2, processes seen), rounded down, at least 1, never the full L', () => {
    expect(fallbackLimit(60, 0)).toBe(30); // never read the database: assume 2
    expect(fallbackLimit(60, 1)).toBe(30);
    expect(fallbackLimit(60, 2)).toBe(30);
    expect(fallbackLimit(60, 3)).toBe(20);
    expect(fallbackLimit(60, 7)).toBe(8);
    expect(fallbackLimit(12, 3)).toBe(4);
    expect(fallbackLimit(10, 40)).toBe(1);
  });
});
