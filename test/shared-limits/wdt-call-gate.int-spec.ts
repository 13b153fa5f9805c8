import { DataSource } from 'typeorm';
import { AppLogger, ManualClock, silentLogger } from '@libs/common';
import { fallbackLimit, PostgresWdtCallGate } from '@libs/shared-limits';
import { createTestSchema, TestSchema } from '../support/postgres-schema';
import { eventually } from '../support/test-env';

/**
 * PostgresWdtCallGate against the real database: several gates, each on its own DataSource with its
 * own instance id, stand for separate processes. Every call the gates start is copied by a trigger into
 * `grant_log` (database clock, microseconds), and the checks read that log — not the test's clock.
 */
const WINDOW_MS = 2000;
const L = 10;

interface Grant {
  scheme: string;
  priority: string;
  instance: string;
  /** Microseconds since the epoch, database clock. */
  at: number;
}

/** Most grants inside any half-open window [t, t + window) of the log (the limit's own definition). */
function maxInAnyWindow(grants: Grant[], windowMs: number): number {
  const ats = grants.map((g) => g.at).sort((a, b) => a - b);
  let max = 0;
  let j = 0;
  for (let i = 0; i < ats.length; i += 1) {
    while (ats[j] <= ats[i] - windowMs * 1000) j += 1;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/** Runs `workers` loops that each acquire one call at a time until `until()` says stop. */
function loops(
  gate: PostgresWdtCallGate,
  workers: number,
  req: { budgetKey: string; scheme: string; priority: 'normal' | 'background'; limit?: number },
  onGrant: () => void,
  until: () => boolean,
): Promise<void[]> {
  return Promise.all(
    Array.from({ length: workers }, async () => {
      while (!until()) {
        await gate.acquire({ limit: L, ...req });
        onGrant();
      }
    }),
  );
}

function recordingLogger(): AppLogger & { warnings: string[] } {
  const warnings: string[] = [];
  const warn = ((objOrMsg: unknown, msg?: string) => {
    warnings.push(typeof objOrMsg === 'string' ? objOrMsg : (msg ?? ''));
  }) as AppLogger['warn'];
  return { ...silentLogger, warn, warnings };
}

describe('PostgresWdtCallGate (shared WDT budget in Postgres)', () => {
  let t: TestSchema;
  const gates: PostgresWdtCallGate[] = [];

  const spawn = async (
    instance: string,
    extra: Partial<ConstructorParameters<typeof PostgresWdtCallGate>[1]> = {},
    ds?: DataSource,
  ) => {
    const gate = new PostgresWdtCallGate(ds ?? (await t.connect(2)), {
      instance,
      windowMs: WINDOW_MS,
      ...extra,
    });
    gates.push(gate);
    return gate;
  };

  const grants = async (budgetKey: string): Promise<Grant[]> => {
    const rows = (await t.ds.query(
      `SELECT scheme, priority, instance, (extract(epoch FROM started_at) * 1000000)::bigint::text AS at
       FROM grant_log WHERE budget_key = $1 ORDER BY started_at`,
      [budgetKey],
    )) as Array<{ scheme: string; priority: string; instance: string; at: string }>;
    return rows.map((r) => ({ ...r, at: Number(r.at) }));
  };

  beforeAll(async () => {
    t = await createTestSchema('gate');
    await t.ds.query(`
      CREATE TABLE grant_log (budget_key text, scheme text, priority text, instance text, started_at timestamptz)`);
    await t.ds.query(`
      CREATE FUNCTION log_grant() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO grant_log VALUES (NEW.budget_key, NEW.scheme, NEW.priority, NEW.instance, NEW.started_at);
        RETURN NEW;
      END $$`);
    await t.ds.query(
      `CREATE TRIGGER log_grant AFTER INSERT ON wdt_budget_calls FOR EACH ROW EXECUTE FUNCTION log_grant()`,
    );
  });

  afterEach(async () => {
    await Promise.all(gates.splice(0).map((g) => g.stop()));
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  it('three processes on one key never start more than L calls in any sliding window', async () => {
    const key = 'native:shared-app';
    const [a, b, c] = await Promise.all([spawn('proc-a'), spawn('proc-b'), spawn('proc-c')]);
    const total = 4 * L;
    let granted = 0;
    const byGate = [0, 0, 0];
    const done = () => granted >= total;
    await Promise.all(
      [a, b, c].map((gate, i) =>
        loops(
          gate,
          4,
          { budgetKey: key, scheme: `scheme-${i}`, priority: 'normal' },
          () => {
            granted += 1;
            byGate[i] += 1;
          },
          done,
        ),
      ),
    );
    const log = await grants(key);
    // Loops already waiting when the total was reached may each take one more.
    expect(log.length).toBeGreaterThanOrEqual(total);
    expect(log.length).toBe(granted);
    expect(maxInAnyWindow(log, WINDOW_MS)).toBeLessThanOrEqual(L);
    // The limit did bind: 40 calls at L per window span at least three windows of the log.
    expect(log[log.length - 1].at - log[0].at).toBeGreaterThanOrEqual(3 * WINDOW_MS * 1000);
    for (const n of byGate) expect(n).toBeGreaterThan(0);
  });

  it('a scheme trickling one call at a time gets its fair share beside a heavy backlog', async () => {
    const key = 'qimen:fair-app';
    const heavy = await spawn('proc-heavy');
    const trickle = await spawn('proc-trickle');
    let stop = false;
    let trickled = 0;
    // The heavy scheme starts first and fills the window; the trickler then asks one call at a time.
    const heavyRun = loops(
      heavy,
      12,
      { budgetKey: key, scheme: 'heavy', priority: 'normal' },
      () => undefined,
      () => stop,
    );
    await eventually(
      'the heavy scheme filled the window',
      async () => (await grants(key)).length >= L,
      20000,
    );
    const trickleRun = loops(
      trickle,
      1,
      { budgetKey: key, scheme: 'trickle', priority: 'normal' },
      () => {
        trickled += 1;
      },
      () => stop,
    );
    await eventually(
      'the trickler made 5 windows of calls',
      async () => trickled >= 5 * Math.floor(L / 2),
      40000,
    );
    stop = true;
    await Promise.all([heavyRun, trickleRun]);
    const log = await grants(key);
    expect(maxInAnyWindow(log, WINDOW_MS)).toBeLessThanOrEqual(L);
    const trickles = log.filter((g) => g.scheme === 'trickle');
    const heavies = log.filter((g) => g.scheme === 'heavy');
    // While the trickler asked (from one window after its first call to its last call), every window
    // in which the key's budget was all used holds at least floor(L / 2) − 1 of the trickler's calls.
    // (A window not full is the re-grant latency's gap: nobody was refused in it.)
    const w = WINDOW_MS * 1000;
    const from = trickles[0].at + w;
    const to = trickles[trickles.length - 1].at - w;
    const full = log
      .filter((g) => g.at >= from && g.at <= to)
      .map((g) => log.filter((x) => x.at >= g.at && x.at < g.at + w))
      .filter((inWindow) => inWindow.length === L);
    expect(full.length).toBeGreaterThanOrEqual(3);
    for (const inWindow of full) {
      expect(inWindow.filter((g) => g.scheme === 'trickle').length).toBeGreaterThanOrEqual(
        Math.floor(L / 2) - 1,
      );
      // …and the heavy scheme keeps its share too.
      expect(inWindow.filter((g) => g.scheme === 'heavy').length).toBeGreaterThanOrEqual(
        Math.floor(L / 2) - 1,
      );
    }
    // Over the whole time the trickler asked, it got at least its share per window on average.
    const periods = (trickles[trickles.length - 1].at - trickles[0].at) / w;
    expect(trickles.length).toBeGreaterThanOrEqual((Math.floor(L / 2) - 1) * Math.floor(periods));
    expect(heavies.length).toBeGreaterThan(0);
  });

  it('background calls wait while a normal call waits on the key (any process)', async () => {
    const key = 'native:lanes-app';
    const poller = await spawn('proc-poll');
    const sweeper = await spawn('proc-sweep');
    const quota = 25;
    let normal = 0;
    let background = 0;
    let normalAtFirstSweep = -1;
    const normalRun = loops(
      poller,
      4,
      { budgetKey: key, scheme: 'poll', priority: 'normal' },
      () => {
        normal += 1;
      },
      () => normal >= quota,
    );
    await eventually('normal calls started', async () => normal >= 1, 20000);
    const sweepRun = (async () => {
      normalAtFirstSweep = normal;
      await loops(
        sweeper,
        3,
        { budgetKey: key, scheme: 'sweep', priority: 'background' },
        () => {
          background += 1;
        },
        () => background >= 6,
      );
    })();
    await Promise.all([normalRun, sweepRun]);
    const log = await grants(key);
    const normals = log.filter((g) => g.priority === 'normal');
    const backgrounds = log.filter((g) => g.priority === 'background');
    // The sweep asked while normal calls were still waiting…
    expect(normalAtFirstSweep).toBeLessThan(quota - 4);
    // …and got nothing before the last normal call started.
    expect(backgrounds.length).toBeGreaterThanOrEqual(6);
    expect(backgrounds[0].at).toBeGreaterThan(normals[normals.length - 1].at);
    expect(maxInAnyWindow(log, WINDOW_MS)).toBeLessThanOrEqual(L);
  });

  it('falls back to L ÷ max(2, processes seen) when Postgres is unreachable, and back when it answers', async () => {
    const key = 'native:fallback-app';
    const limit = 12;
    const clock = new ManualClock(1_000_000);
    const logger = recordingLogger();
    const dsC = await t.connect(2);
    const a = await spawn('proc-fa');
    const b = await spawn('proc-fb');
    const c = await spawn('proc-fc', { clock, logger, probeMs: 100, queryTimeoutMs: 1000 }, dsC);
    // Three processes use the key (heartbeats), C one call of its own while the database answers.
    await a.acquire({ budgetKey: key, limit, scheme: 's', priority: 'normal' });
    await b.acquire({ budgetKey: key, limit, scheme: 's', priority: 'normal' });
    await c.acquire({ budgetKey: key, limit, scheme: 's', priority: 'normal' });
    expect(c.processesSeen(key)).toBe(3);
    expect(c.mode(key)).toBe('shared');

    await dsC.destroy();
    let grantedC = 0;
    const pending = Array.from({ length: 10 }, () =>
      c.acquire({ budgetKey: key, limit, scheme: 's', priority: 'normal' }).then(() => {
        grantedC += 1;
      }),
    );
    const local = fallbackLimit(limit, 3);
    expect(local).toBe(4);
    // C's clock stands still: its own call plus 3 more fill its local window of 4.
    await eventually(
      'C fell back and used its local window',
      async () => c.mode(key) === 'fallback' && grantedC >= local - 1,
      20000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(grantedC).toBe(local - 1);
    // One window later (C's clock), 4 more.
    clock.advance(WINDOW_MS);
    await eventually('the next local window', async () => grantedC >= 2 * local - 1, 20000);
    await new Promise((r) => setTimeout(r, 500));
    expect(grantedC).toBe(2 * local - 1);
    expect(logger.warnings.filter((w) => w.includes('unreachable'))).toHaveLength(1);

    // Postgres answers again: C returns to the shared log, writing the calls it made meanwhile.
    await dsC.initialize();
    clock.advance(200);
    await Promise.all(pending);
    expect(c.mode(key)).toBe('shared');
    expect(logger.warnings.filter((w) => w.includes('answers again'))).toHaveLength(1);
    const log = (await grants(key)).filter((g) => g.instance === 'proc-fc');
    // 1 shared call + the 4 fallback calls still inside the window (by C's clock) + the shared rest.
    expect(log.length).toBe(1 + local + (10 - (2 * local - 1)));
  });
});
