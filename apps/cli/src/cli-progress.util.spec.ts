import { CliProgress } from './cli-progress.util';

describe('CliProgress off a terminal', () => {
  const make = (lines: string[], intervalMs = 60_000) =>
    new CliProgress({
      label: 'backfill s1',
      describe: (done, total, f) => `window ${done}/${total}, ${f.records} records`,
      barFormat: '{label} |{bar}|',
      tty: false,
      intervalMs,
      write: (l) => lines.push(l),
    });

  it('prints plain lines: the first, then at most one per interval, and the last', () => {
    const lines: string[] = [];
    const p = make(lines);
    p.update(1, 5, { records: 10 });
    p.update(2, 5, { records: 20 });
    p.update(3, 5, { records: 30 });
    p.update(5, 5, { records: 50 });
    p.stop();
    expect(lines).toEqual(['backfill s1: window 1/5, 10 records', 'backfill s1: window 5/5, 50 records']);
  });

  it('prints the final state on stop when the interval held it back', () => {
    const lines: string[] = [];
    const p = make(lines);
    p.update(1, 5, { records: 10 });
    p.update(2, 5, { records: 20 });
    p.stop();
    p.stop();
    expect(lines).toEqual(['backfill s1: window 1/5, 10 records', 'backfill s1: window 2/5, 20 records']);
  });

  it('prints nothing when nothing happened', () => {
    const lines: string[] = [];
    make(lines).stop();
    expect(lines).toEqual([]);
  });
});
