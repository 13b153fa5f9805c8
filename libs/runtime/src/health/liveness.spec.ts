import { judgeConsumers, Liveness } from './liveness';

const STALL = 600_000;

describe('liveness', () => {
  it('a consumer is stalled only when idle past the limit with lag and not paused', () => {
    const now = 10_000_000;
    const idle = now - STALL - 1;
    const verdict = judgeConsumers(
      [
        { name: 'stuck', progress: { lastProgressAt: idle, lag: 3, paused: false } },
        { name: 'no-lag', progress: { lastProgressAt: idle, lag: 0, paused: false } },
        { name: 'unmeasured', progress: { lastProgressAt: idle, lag: undefined, paused: false } },
        { name: 'paused', progress: { lastProgressAt: idle, lag: 3, paused: true } },
        { name: 'recent', progress: { lastProgressAt: now - STALL + 1000, lag: 3, paused: false } },
      ],
      now,
      STALL,
    );
    expect(verdict.filter((c) => c.stalled).map((c) => c.name)).toEqual(['stuck']);
  });

  it('an open circuit or settling work keeps a stalled consumer live; otherwise it is not', async () => {
    let now = 0;
    const liveness = new Liveness(STALL, () => now);
    liveness.watch('loader', { progress: () => ({ lastProgressAt: 0, lag: 5, paused: false }) });
    now = STALL + 1;
    expect((await liveness.check()).live).toBe(false);
    let open = true;
    let settling = false;
    liveness.waitReasons({ circuitOpen: () => open, settling: async () => settling });
    expect(await liveness.check()).toMatchObject({ live: true, waiting: 'circuit open' });
    open = false;
    settling = true;
    expect(await liveness.check()).toMatchObject({ live: true, waiting: 'settling' });
    settling = false;
    expect((await liveness.check()).live).toBe(false);
  });
});
