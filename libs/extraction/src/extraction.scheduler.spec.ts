import { ManualClock, parseShanghai, silentLogger } from '@libs/common';
import { loadSchemeFile, Scheme } from '@libs/scheme';
import { ExtractionScheduler, idlePollMs } from './extraction.scheduler';
import { ExtractionService } from './extraction.service';
import { LeaderLease } from './leader-lease';

const shipped = loadSchemeFile('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml');

function fakes(clock: ManualClock, leader = true) {
  const calls: string[] = [];
  const service = {
    poll: async () => {
      calls.push(`poll@${clock.now()}`);
      return undefined;
    },
    processResyncRequests: async () => 0,
    sweep: async () => undefined,
    lookback: async () => {
      calls.push(`lookback@${clock.now()}`);
      return undefined;
    },
  } as unknown as ExtractionService;
  const lease = {
    tryAcquire: async () => leader,
    stillHeld: async () => leader,
    release: async () => undefined,
  } as unknown as LeaderLease;
  return { calls, service, lease };
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('idlePollMs', () => {
  it('is max(pollInterval, 120·N/L s): idle polls of N schemes take at most half of L calls a minute', () => {
    expect(idlePollMs(2000, 1, 60)).toBe(2000);
    expect(idlePollMs(2000, 3, 60)).toBe(6000);
    expect(idlePollMs(2000, 10, 600)).toBe(2000);
    expect(idlePollMs(1000, 4, 30)).toBe(16000);
    // N schemes each polling every 120·N/L s make N·L/(120·N) = L/120 calls a second: L/2 a minute.
    const n = 5;
    const l = 40;
    expect((n * 60_000) / idlePollMs(1, n, l)).toBeCloseTo(l / 2, 6);
  });
});

describe('ExtractionScheduler', () => {
  it('follows a paging poll at pollInterval and waits idlePollMs after an idle one', async () => {
    const scheme: Scheme = {
      ...shipped,
      schedule: { ...shipped.schedule, pollInterval: '5ms', transferTime: undefined },
    };
    const clock = new ManualClock(Date.now());
    const calls: number[] = [];
    const service = {
      // Three polls page through a backlog (3 calls each), then one finds nothing new (1 call).
      poll: async () => {
        calls.push(calls.length);
        return { httpCalls: calls.length <= 3 ? 3 : 1 };
      },
      processResyncRequests: async () => 0,
      sweep: async () => undefined,
      lookback: async () => undefined,
    } as unknown as ExtractionService;
    const { lease } = fakes(clock);
    const asked: string[] = [];
    const scheduler = new ExtractionScheduler(scheme, service, lease, clock, silentLogger, {
      idlePollMs: (id) => {
        asked.push(id);
        return 60 * 60_000;
      },
    });
    scheduler.start();
    await until(() => calls.length >= 4);
    // The fourth poll was idle: the next one is an hour away, not 5 ms.
    await new Promise((r) => setTimeout(r, 200));
    await scheduler.stop();
    expect(calls).toEqual([0, 1, 2, 3]);
    expect(asked).toEqual([scheme.id]);
  });

  it('polls only at the 传递时间 cron times when one is configured', async () => {
    const scheme: Scheme = {
      ...shipped,
      schedule: { ...shipped.schedule, pollInterval: '20ms', transferTime: '*/5 * * * *' },
    };
    const clock = new ManualClock(parseShanghai('2026-11-28 12:01:30')!);
    const { calls, service, lease } = fakes(clock);
    const scheduler = new ExtractionScheduler(scheme, service, lease, clock, silentLogger);
    scheduler.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toEqual([]); // 12:01:30 is not a transfer time
    clock.set(parseShanghai('2026-11-28 12:05:00')!);
    await until(() => calls.length > 0);
    await scheduler.stop();
    expect(calls[0]).toBe(`poll@${parseShanghai('2026-11-28 12:05:00')}`);
  });

  it('polls every interval without a cron, and not at all on a replica that is not the leader', async () => {
    const scheme: Scheme = {
      ...shipped,
      schedule: { ...shipped.schedule, pollInterval: '10ms', transferTime: undefined },
    };
    const clock = new ManualClock(Date.now());
    const leader = fakes(clock);
    const follower = fakes(clock, false);
    const a = new ExtractionScheduler(scheme, leader.service, leader.lease, clock, silentLogger);
    const b = new ExtractionScheduler(scheme, follower.service, follower.lease, clock, silentLogger);
    a.start();
    b.start();
    await until(() => leader.calls.length >= 3);
    await Promise.all([a.stop(), b.stop()]);
    expect(leader.calls.length).toBeGreaterThanOrEqual(3);
    expect(follower.calls).toEqual([]);
  });

  it('runs the lookback re-read on its own cadence (lookbackInterval on the clock), after a poll', async () => {
    const scheme: Scheme = {
      ...shipped,
      schedule: { ...shipped.schedule, pollInterval: '5ms', transferTime: undefined },
      source: { ...shipped.source, cursor: { ...shipped.source.cursor, lookbackInterval: '60s' } },
    };
    const start = parseShanghai('2026-11-28 12:00:00')!;
    const clock = new ManualClock(start);
    const { calls, service, lease } = fakes(clock);
    const scheduler = new ExtractionScheduler(scheme, service, lease, clock, silentLogger);
    const lookbacks = () => calls.filter((c) => c.startsWith('lookback'));
    const polls = () => calls.filter((c) => c.startsWith('poll')).length;
    scheduler.start();
    await until(() => polls() >= 5);
    expect(lookbacks()).toEqual([]); // many polls, no lookback before 60 s passed on the clock
    clock.advance(59_999);
    let seen = polls();
    await until(() => polls() >= seen + 3);
    expect(lookbacks()).toEqual([]);
    clock.advance(1);
    await until(() => lookbacks().length === 1);
    seen = polls();
    await until(() => polls() >= seen + 5);
    expect(lookbacks()).toEqual([`lookback@${start + 60_000}`]); // once per interval, not once per poll
    clock.advance(60_000);
    await until(() => lookbacks().length === 2);
    await scheduler.stop();
    expect(lookbacks()).toEqual([`lookback@${start + 60_000}`, `lookback@${start + 120_000}`]);
    // The lookback follows a poll: the call before each lookback is a poll.
    for (const [i, c] of calls.entries()) if (c.startsWith('lookback')) expect(calls[i - 1]).toMatch(/^poll/);
  });

  it('keeps polling while a lookback runs: the lookback runs beside the poll loop, one at a time', async () => {
    const scheme: Scheme = {
      ...shipped,
      schedule: { ...shipped.schedule, pollInterval: '5ms', transferTime: undefined },
      source: { ...shipped.source, cursor: { ...shipped.source.cursor, lookbackInterval: '60s' } },
    };
    const clock = new ManualClock(parseShanghai('2026-11-28 12:00:00')!);
    const { calls, service, lease } = fakes(clock);
    let release!: () => void;
    let running = 0;
    let started = 0;
    (service as { lookback: () => Promise<undefined> }).lookback = async () => {
      started += 1;
      running += 1;
      calls.push('lookback-start');
      await new Promise<void>((r) => (release = r));
      running -= 1;
      return undefined;
    };
    const scheduler = new ExtractionScheduler(scheme, service, lease, clock, silentLogger);
    const polls = () => calls.filter((c) => c.startsWith('poll')).length;
    scheduler.start();
    clock.advance(60_000);
    await until(() => started === 1);
    const before = polls();
    // The lookback has not finished; polls go on (inline, it would hold them until it ended).
    await until(() => polls() >= before + 10);
    expect(polls()).toBeGreaterThanOrEqual(before + 10);
    // Another interval passes while it still runs: no second lookback beside the first.
    clock.advance(60_000);
    const later = polls();
    await until(() => polls() >= later + 5);
    expect([started, running]).toEqual([1, 1]);
    release();
    await until(() => started === 2);
    expect(started).toBe(2); // the due one starts after the running one ended
    release();
    await scheduler.stop();
    expect(running).toBe(0);
  });
});
