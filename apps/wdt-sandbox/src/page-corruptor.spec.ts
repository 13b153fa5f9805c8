import { DEFAULT_KNOBS, SandboxKnobs, mergeKnobs } from './knobs';
import { PageCorruptor } from './page-corruptor';

const page = () => ({
  code: 0,
  message: '',
  total_count: '2',
  stockout_list: [
    { stockout_id: '1', order_no: 'A', details_list: [{ spec_no: 'S', goods_count: '2.0000' }] },
    { stockout_id: '2', order_no: 'B', details_list: [{ spec_no: 'S', goods_count: '1.0000' }] },
  ],
});

function run(corruptions: unknown, body = page()) {
  let knobs: SandboxKnobs = mergeKnobs({ ...DEFAULT_KNOBS }, { corruptions });
  const out = new PageCorruptor().apply('native', body, knobs, (patch) => (knobs = { ...knobs, ...patch }));
  const parsed = (): ReturnType<typeof page> => JSON.parse(out!.reply.body) as ReturnType<typeof page>;
  return { out, knobs, parsed };
}

describe('PageCorruptor', () => {
  it('leaves pages without a targeted order alone', () => {
    expect(run([{ kind: 'null_record', order: 'Z' }]).out).toBeUndefined();
  });

  it('corrupts the targeted record only, never the stored page', () => {
    const body = page();
    const parsed = run(
      [
        { kind: 'null_record', order: 'A' },
        { kind: 'wrong_type', order: 'B' },
      ],
      body,
    ).parsed();
    expect(parsed.stockout_list[0]).toBeNull();
    expect(parsed.stockout_list[1].details_list[0].goods_count).toEqual({ value: '1.0000' });
    expect(body.stockout_list[0]).not.toBeNull();
  });

  it('drops order_no, turns details into an object, pads a record and moves total_count', () => {
    const parsed = run([
      { kind: 'missing_order_no', order: 'A' },
      { kind: 'details_not_array', order: '2' },
      { kind: 'oversize_record', order: 'A', bytes: 10 },
      { kind: 'total_count_mismatch', order: 'B' },
    ]).parsed();
    const [a, b] = parsed.stockout_list as Array<Record<string, unknown>>;
    expect(a.order_no).toBeUndefined();
    expect(a.remark).toBe('x'.repeat(10));
    expect(Array.isArray(b.details_list)).toBe(false);
    expect(parsed.total_count).toBe('3');
  });

  it('cuts a page short so it is not JSON', () => {
    const { out } = run([{ kind: 'non_json_page', order: 'A' }]);
    expect(() => JSON.parse(out!.reply.body)).toThrow();
  });

  it('fires a rule `times` times, then drops it; a rule without times stays', () => {
    const first = run([
      { kind: 'null_record', order: 'A', times: 2 },
      { kind: 'missing_order_no', order: 'B' },
    ]);
    expect(first.knobs.corruptions).toEqual([
      { kind: 'null_record', order: 'A', times: 1 },
      { kind: 'missing_order_no', order: 'B' },
    ]);
    const second = run(first.knobs.corruptions);
    expect(second.knobs.corruptions).toEqual([{ kind: 'missing_order_no', order: 'B' }]);
  });

  it('refuses unknown kinds', () => {
    expect(() => run([{ kind: 'gremlins', order: 'A' }])).toThrow(/corruptions/);
  });
});
