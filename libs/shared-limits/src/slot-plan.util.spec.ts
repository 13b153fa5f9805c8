import { planSlots, SlotPlanInput, SlotRow } from './slot-plan.util';

const NOW = 10_000;
const slots = (holders: Array<string | null>, expiresAt = NOW + 5000): SlotRow[] =>
  holders.map((instance, slot) => ({ slot, instance, expiresAt: instance === null ? null : expiresAt }));
const plan = (over: Partial<SlotPlanInput>) =>
  planSlots({
    cap: 4,
    me: 'me',
    want: 4,
    inUse: 0,
    now: NOW,
    slots: slots([null, null, null, null]),
    participants: [],
    ...over,
  });

describe('planSlots', () => {
  it('takes free slots up to what it wants, lowest numbers first', () => {
    expect(plan({ want: 2 })).toMatchObject({ keep: [], take: [0, 1], give: [], held: 2, bound: 'want' });
    expect(plan({ want: 9 })).toMatchObject({ take: [0, 1, 2, 3], held: 4, bound: 'cap' });
  });

  it('keeps its live leases and takes over expired ones (its own or another process’s)', () => {
    const rows: SlotRow[] = [
      { slot: 0, instance: 'me', expiresAt: NOW + 100 },
      { slot: 1, instance: 'dead', expiresAt: NOW },
      { slot: 2, instance: 'other', expiresAt: NOW + 100 },
      { slot: 3, instance: 'me', expiresAt: NOW - 1 },
    ];
    expect(plan({ slots: rows, participants: [{ instance: 'other', want: 1 }] })).toMatchObject({
      keep: [0],
      take: [1, 3],
      give: [],
      held: 3,
    });
  });

  it('holds everything while nobody else waits with none', () => {
    const p = plan({
      slots: slots(['me', 'me', 'me', 'other']),
      participants: [
        { instance: 'me', want: 4 },
        { instance: 'other', want: 4 },
      ],
    });
    expect(p).toMatchObject({ keep: [0, 1, 2], take: [], give: [], held: 3, bound: 'want' });
  });

  it('gives back down to max(1, floor(cap ÷ processes)) while another process waits with none', () => {
    const all = slots(['me', 'me', 'me', 'me']);
    const two = plan({ slots: all, participants: [{ instance: 'b', want: 4 }] });
    expect(two).toMatchObject({ keep: [0, 1], give: [2, 3], held: 2, bound: 'fair' });
    const three = plan({
      slots: slots(['me', 'me', 'b', 'b']),
      participants: [
        { instance: 'b', want: 4 },
        { instance: 'c', want: 4 },
      ],
    });
    expect(three).toMatchObject({ keep: [0], give: [1], held: 1, bound: 'fair' });
    // A waiter that wants nothing does not count as waiting.
    expect(plan({ slots: all, participants: [{ instance: 'idle', want: 0 }] })).toMatchObject({
      held: 4,
      give: [],
    });
  });

  it('never takes more than ceil(cap ÷ processes) while another waits with none', () => {
    for (const processes of [2, 3, 4, 5]) {
      const participants = Array.from({ length: processes - 1 }, (_, i) => ({ instance: `p${i}`, want: 4 }));
      const p = plan({ participants });
      expect(p.keep.length + p.take.length).toBeLessThanOrEqual(Math.ceil(4 / processes));
      expect(p.held).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps a slot given up until the call using it is done, without counting it as held', () => {
    const p = plan({
      slots: slots(['me', 'me', 'me', 'me']),
      inUse: 3,
      participants: [{ instance: 'b', want: 4 }],
    });
    expect(p).toMatchObject({ keep: [0, 1, 2], give: [3], held: 2 });
    const later = plan({
      slots: slots(['me', 'me', 'me', null]),
      inUse: 2,
      participants: [{ instance: 'b', want: 4 }],
    });
    expect(later).toMatchObject({ keep: [0, 1], give: [2], take: [], held: 2 });
  });

  it('ignores slots at or beyond the cap', () => {
    const rows = [...slots([null, null]), { slot: 2, instance: null, expiresAt: null }];
    expect(plan({ cap: 2, slots: rows })).toMatchObject({ take: [0, 1], held: 2 });
  });
});
