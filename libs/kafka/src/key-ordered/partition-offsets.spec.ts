import { PartitionOffsets } from './partition-offsets';

describe('PartitionOffsets: the committed offset is that of the lowest unfinished record', () => {
  it('never passes an unfinished record, whatever order records finish in', () => {
    const p = new PartitionOffsets();
    expect(p.committable()).toBeUndefined();
    for (const o of [10n, 11n, 12n, 13n, 14n]) expect(p.take(o)).toBe(true);
    expect(p.committable()).toBe(10n);
    expect(p.unfinished).toBe(5);
    p.finish(12n);
    p.finish(14n);
    expect(p.committable()).toBe(10n); // 10 and 11 still running
    p.finish(10n);
    expect(p.committable()).toBe(11n);
    p.finish(11n);
    expect(p.committable()).toBe(13n); // 12 was done: skipped to the next unfinished
    expect(p.unfinished).toBe(1);
    p.finish(13n);
    expect(p.committable()).toBe(15n); // all finished: one past the highest taken
    expect(p.unfinished).toBe(0);
  });

  it('handles gaps in offsets (compaction, transaction markers) and ignores refetched records', () => {
    const p = new PartitionOffsets();
    p.take(3n);
    p.take(7n);
    expect(p.take(7n)).toBe(false);
    expect(p.take(5n)).toBe(false);
    p.finish(7n);
    expect(p.committable()).toBe(3n);
    p.finish(3n);
    expect(p.committable()).toBe(8n);
    p.finish(99n); // unknown: ignored
    expect(p.committable()).toBe(8n);
    expect(p.next).toBe(8n);
  });

  it('stays correct over many records finished out of order (randomised against a model)', () => {
    const p = new PartitionOffsets();
    const open = new Set<bigint>();
    let next = 0n;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let step = 0; step < 5000; step++) {
      if (rnd() < 0.55 || open.size === 0) {
        next += rnd() < 0.1 ? 2n : 1n;
        p.take(next);
        open.add(next);
      } else {
        const list = [...open];
        const o = list[Math.floor(rnd() * list.length)];
        open.delete(o);
        p.finish(o);
      }
      const lowest = open.size === 0 ? next + 1n : [...open].reduce((a, b) => (a < b ? a : b));
      expect(p.committable()).toBe(lowest);
      expect(p.unfinished).toBe(open.size);
    }
  });
});
