import { DataSource } from 'typeorm';
import { PostgresKingdeeSlotLeases, SlotHold } from '@libs/shared-limits';
import { createTestSchema, TestSchema } from '../support/postgres-schema';
import { eventually } from '../support/test-env';

/**
 * PostgresKingdeeSlotLeases against the real database: each "process" is a leases instance on its own
 * DataSource with its own instance id. Every `onChange` goes into one ordered event list; the checks
 * read it (and the slot table), not the clock.
 */
const LEASE_MS = 1500;

interface Holder {
  name: string;
  hold: SlotHold;
  held: number;
  ds: DataSource;
}

describe('PostgresKingdeeSlotLeases (shared Kingdee session cap in Postgres)', () => {
  let t: TestSchema;
  const holds: SlotHold[] = [];
  /** Every change, in order, with everyone's count right after it. */
  let events: Array<{ who: string; held: number; all: Record<string, number> }>;
  let current: Record<string, number>;

  beforeAll(async () => {
    t = await createTestSchema('slots');
  });

  beforeEach(() => {
    events = [];
    current = {};
  });

  afterEach(async () => {
    await Promise.all(holds.splice(0).map((h) => h.release().catch(() => undefined)));
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  const holder = async (
    name: string,
    account: string,
    cap: number,
    want: number,
    ds?: DataSource,
  ): Promise<Holder> => {
    const source = ds ?? (await t.connect(2));
    const leases = new PostgresKingdeeSlotLeases(source, { instance: name, leaseMs: LEASE_MS });
    const h = { name, held: 0, ds: source } as Holder;
    current[name] = 0;
    h.hold = await leases.hold({
      account,
      cap,
      want,
      onChange: (held) => {
        h.held = held;
        current[name] = held;
        events.push({ who: name, held, all: { ...current } });
      },
    });
    holds.push(h.hold);
    return h;
  };

  const total = (all: Record<string, number>) => Object.values(all).reduce((a, b) => a + b, 0);

  it('three holders on a cap of 4 never hold more than 4 together, and each gets one', async () => {
    const account = 'erp.example/k3cloud/#acct-three';
    const a = await holder('slot-a', account, 4, 4);
    expect(a.held).toBe(4);
    const b = await holder('slot-b', account, 4, 4);
    const c = await holder('slot-c', account, 4, 4);
    await eventually(
      'every holder has a slot and all 4 are used',
      async () => a.held >= 1 && b.held >= 1 && c.held >= 1 && a.held + b.held + c.held === 4,
    );
    // Stable: a few renewals later still 4 in all.
    const seen = events.length;
    await eventually('three more renewals', async () => {
      const [row] = (await t.ds.query(
        `SELECT count(*)::int AS n, min(seen_at) AS oldest FROM kingdee_slot_holders WHERE account = $1`,
        [account],
      )) as Array<{ n: number }>;
      return row.n === 3;
    });
    for (const e of events) expect(total(e.all)).toBeLessThanOrEqual(4);
    expect(events.length).toBeGreaterThanOrEqual(seen);
    const leased = (await t.ds.query(
      `SELECT instance, count(*)::int AS n FROM kingdee_slots
       WHERE account = $1 AND instance IS NOT NULL AND expires_at > clock_timestamp() GROUP BY instance`,
      [account],
    )) as Array<{ instance: string; n: number }>;
    expect(leased.reduce((s, r) => s + r.n, 0)).toBeLessThanOrEqual(4);
  });

  it('a holder takes no more than ceil(cap ÷ processes) while another waits with none, and gives back to it', async () => {
    const account = 'erp.example/k3cloud/#acct-fair';
    const a = await holder('fair-a', account, 4, 4);
    expect(a.held).toBe(4);
    const b = await holder('fair-b', account, 4, 4);
    expect(b.held).toBe(0); // a holds every slot: b waits with none
    await eventually('a gave b a share', async () => b.held >= 1);
    await eventually('they split the cap', async () => a.held === 2 && b.held === 2);
    const c = await holder('fair-c', account, 4, 4);
    const cWaitsFrom = events.length;
    await eventually('c got a slot', async () => c.held >= 1);
    // While c waited with none, nobody went above ceil(4 ÷ 3) = 2.
    for (const e of events.slice(cWaitsFrom)) {
      if (e.all['fair-c'] === 0) for (const held of Object.values(e.all)) expect(held).toBeLessThanOrEqual(2);
    }
    await eventually('all 4 in use again', async () => a.held + b.held + c.held === 4);
    for (const e of events) expect(total(e.all)).toBeLessThanOrEqual(4);
  });

  it('takes over the slots of a process that stopped renewing, after it stopped using them', async () => {
    const account = 'erp.example/k3cloud/#acct-expiry';
    const dsDead = await t.connect(2);
    const dead = await holder('dying', account, 4, 4, dsDead);
    expect(dead.held).toBe(4);
    const heir = await holder('heir', account, 4, 4);
    expect(heir.held).toBe(0);
    await dsDead.destroy(); // its renewals fail from now on
    await eventually('the heir took over every slot', async () => heir.held === 4, 30000);
    // The dying holder gave its slots up (onChange(0)) before the heir used any.
    const lost = events.findIndex((e) => e.who === 'dying' && e.held === 0);
    const taken = events.findIndex((e) => e.who === 'heir' && e.held > 0);
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThan(taken);
    expect(dead.hold.held()).toBe(0);
    for (const e of events) expect(total(e.all)).toBeLessThanOrEqual(4);
  });

  it('release gives every slot back at once and the waiter takes them', async () => {
    const account = 'erp.example/k3cloud/#acct-release';
    const first = await holder('rel-first', account, 2, 2);
    expect(first.held).toBe(2);
    const second = await holder('rel-second', account, 2, 2);
    await first.hold.release();
    expect(first.hold.held()).toBe(0);
    const rows = (await t.ds.query(
      `SELECT (SELECT count(*)::int FROM kingdee_slots WHERE account = $1 AND instance = 'rel-first') AS slots,
              (SELECT count(*)::int FROM kingdee_slot_holders WHERE account = $1 AND instance = 'rel-first') AS holders`,
      [account],
    )) as Array<{ slots: number; holders: number }>;
    expect(rows[0]).toEqual({ slots: 0, holders: 0 });
    await eventually('the second holder took both', async () => second.held === 2);
  });
});
