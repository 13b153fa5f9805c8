import { KeyScheduler } from './key-scheduler';

describe('KeyScheduler: different keys concurrently, one key strictly in order', () => {
  it('hands out distinct keys across partitions, each key once at a time', () => {
    const s = new KeyScheduler<string>();
    // One partition, several bills, one of them with three versions in a row.
    s.add('A', 'p0@0');
    s.add('B', 'p0@1');
    s.add('A', 'p0@2');
    s.add('C', 'p0@3');
    s.add('A', 'p0@4');
    const first = s.take(2);
    expect(first).toEqual([
      { key: 'A', items: ['p0@0', 'p0@2', 'p0@4'] },
      { key: 'B', items: ['p0@1'] },
    ]);
    // A new version of A arrives while A is in flight: it waits for A to finish.
    s.add('A', 'p0@5');
    expect(s.take(10)).toEqual([{ key: 'C', items: ['p0@3'] }]);
    expect(s.take(10)).toEqual([]);
    expect(s.busyKeys).toBe(3);
    s.done('A');
    expect(s.take(10)).toEqual([{ key: 'A', items: ['p0@5'] }]);
    s.done('B');
    s.done('C');
    s.done('A');
    expect(s.busyKeys).toBe(0);
    expect(s.queued).toBe(0);
  });

  it('a failed group goes back in front of its key, after a backoff; newer records stay behind it', () => {
    let now = 1000;
    const s = new KeyScheduler<number>(() => now);
    s.add('K', 1);
    const [g] = s.take(1);
    s.add('K', 2);
    s.retryLater('K', g.items, (n) => 100 * n);
    expect(s.take(5)).toEqual([]);
    expect(s.nextRetryAt()).toBe(1100);
    now = 1100;
    expect(s.take(5)).toEqual([{ key: 'K', items: [1, 2] }]);
  });

  it('drops queued records of a revoked generation but keeps busy keys busy until done', () => {
    const s = new KeyScheduler<{ gen: number; o: number }>();
    s.add('A', { gen: 1, o: 0 });
    s.add('B', { gen: 1, o: 1 });
    const [a] = s.take(1);
    expect(a.key).toBe('A');
    s.add('A', { gen: 1, o: 2 });
    expect(s.dropQueued((i) => i.gen === 1)).toBe(2);
    s.add('A', { gen: 2, o: 2 }); // refetched after the rejoin: waits for the old call of A
    expect(s.take(5)).toEqual([]);
    s.done('A');
    expect(s.take(5)).toEqual([{ key: 'A', items: [{ gen: 2, o: 2 }] }]);
  });
});
