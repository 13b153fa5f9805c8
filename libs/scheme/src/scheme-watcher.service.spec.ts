import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { schemeYaml } from '../../../test/support/scheme/scheme-fixtures.util';
import {
  idempotencyKeyRefusal,
  SchemeChange,
  SchemeFileProblem,
  SchemeWatcher,
} from './scheme-watcher.service';
import { SchemeSchema } from './scheme.schema';

type Input = Record<string, Record<string, Record<string, unknown>>>;
const validSchemeInput = (): Input => parse(schemeYaml()) as Input;

describe('SchemeWatcher', () => {
  let dir: string;
  let problems: Array<{ file: string; problem: SchemeFileProblem | null }>;
  let seen: SchemeChange[][];

  const write = (name: string, input: Record<string, unknown>) =>
    fs.writeFileSync(path.join(dir, name), stringify(input));
  const scheme = (id: string, extra: Record<string, unknown> = {}) => ({
    ...validSchemeInput(),
    id,
    ...extra,
  });
  const watcher = (accept?: ConstructorParameters<typeof SchemeWatcher>[0]['accept']) => {
    const w = new SchemeWatcher({
      dir,
      intervalMs: 60_000,
      accept,
      onProblem: (file, problem) => {
        problems.push({ file: path.basename(file), problem });
      },
    });
    w.onChange((c) => {
      seen.push(c);
    });
    return w;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-watcher-'));
    problems = [];
    seen = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads, then reports added, changed and removed schemes per check', async () => {
    write('a.yaml', scheme('scheme-a'));
    const w = watcher();
    expect(w.load().map((s) => s.id)).toEqual(['scheme-a']);
    expect(await w.check()).toEqual([]);

    write('b.yaml', scheme('scheme-b'));
    write('a.yaml', scheme('scheme-a', { name: 'renamed' }));
    const changes = await w.check();
    expect(changes.map((c) => [c.kind, c.id])).toEqual([
      ['changed', 'scheme-a'],
      ['added', 'scheme-b'],
    ]);
    expect(w.get('scheme-a')?.name).toBe('renamed');
    expect(seen).toHaveLength(1);

    fs.rmSync(path.join(dir, 'b.yaml'));
    expect((await w.check()).map((c) => [c.kind, c.id])).toEqual([['removed', 'scheme-b']]);
    expect(w.schemes().map((s) => s.id)).toEqual(['scheme-a']);
  });

  it('keeps the last good version of an invalid file and reports the problem once per change', async () => {
    write('a.yaml', scheme('scheme-a'));
    const w = watcher();
    w.load();
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'id: scheme-a\nname: [unclosed\n');
    expect(await w.check()).toEqual([]);
    expect(await w.check()).toEqual([]);
    expect(w.get('scheme-a')?.name).toBe(validSchemeInput().name);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'a.yaml', problem: { file: 'a.yaml', schemeId: 'scheme-a' } });
    expect(w.problems()).toHaveLength(1);

    write('a.yaml', scheme('scheme-a', { name: 'fixed' }));
    expect((await w.check()).map((c) => c.kind)).toEqual(['changed']);
    expect(problems[1]).toEqual({ file: 'a.yaml', problem: null });
    expect(w.problems()).toEqual([]);
  });

  it('does not take a scheme whose id another file already uses', async () => {
    write('a.yaml', scheme('scheme-a'));
    const w = watcher();
    w.load();
    write('b.yaml', scheme('scheme-a'));
    expect(await w.check()).toEqual([]);
    expect(problems[0].problem?.error).toMatch(/already used by a\.yaml/);
  });

  it('keeps the old version when accept refuses the new one', async () => {
    write('a.yaml', scheme('scheme-a'));
    const w = watcher((next, previous) => (previous ? idempotencyKeyRefusal(previous, next, 3) : undefined));
    w.load();
    const input = validSchemeInput();
    write('a.yaml', {
      ...input,
      id: 'scheme-a',
      target: { ...input.target, idempotencyKey: { field: 'FBillNo', source: 'X{{order_no}}' } },
      mapping: {
        ...input.mapping,
        header: { ...input.mapping.header, FBillNo: { template: 'X{{order_no}}' } },
      },
    });
    expect(await w.check()).toEqual([]);
    expect(w.get('scheme-a')?.target.idempotencyKey.source).toBe(input.target.idempotencyKey.source);
    expect(problems[0].problem?.error).toMatch(/3 bill claim\(s\) exist/);
  });

  it('reports a renamed id as removed + added', async () => {
    write('a.yaml', scheme('scheme-a'));
    const w = watcher();
    w.load();
    write('a.yaml', scheme('scheme-z'));
    expect((await w.check()).map((c) => [c.kind, c.id])).toEqual([
      ['removed', 'scheme-a'],
      ['added', 'scheme-z'],
    ]);
  });
});

describe('idempotencyKeyRefusal', () => {
  const base = SchemeSchema.parse(validSchemeInput());
  it('allows any change without claims, and other changes with claims', () => {
    const changed = {
      ...base,
      target: { ...base.target, idempotencyKey: { field: 'FBillNo', source: 'X{{order_no}}' } },
    };
    expect(idempotencyKeyRefusal(base, changed, 0)).toBeUndefined();
    expect(idempotencyKeyRefusal(base, { ...base, name: 'x' }, 5)).toBeUndefined();
    expect(idempotencyKeyRefusal(base, changed, 5)).toMatch(/changed .* 5 bill claim/);
  });
});

describe('SchemeWatcher and extends', () => {
  let dir: string;
  let problems: Array<{ file: string; problem: SchemeFileProblem | null }>;
  const base = (pollInterval: string) => {
    const { id: _id, name: _name, ...rest } = validSchemeInput();
    return stringify({ ...rest, schedule: { pollInterval } });
  };
  const shop = (id: string) => stringify({ extends: 'bases/base.yaml', id, name: id });
  const write = (name: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-watcher-extends-'));
    problems = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('never reads the bases subfolder as schemes, and reloads every scheme extending a changed base', async () => {
    write('bases/base.yaml', base('2s'));
    write('a.yaml', shop('scheme-a'));
    write('b.yaml', shop('scheme-b'));
    write('c.yaml', stringify({ ...validSchemeInput(), id: 'scheme-c' }));
    const w = new SchemeWatcher({
      dir,
      intervalMs: 60_000,
      onProblem: (file, problem) => {
        problems.push({ file: path.basename(file), problem });
      },
    });
    expect(w.load().map((s) => [s.id, s.schedule.pollInterval])).toEqual([
      ['scheme-a', '2s'],
      ['scheme-b', '2s'],
      ['scheme-c', '2s'],
    ]);
    expect(await w.check()).toEqual([]);

    // Same bytes written again: nothing to reload.
    write('bases/base.yaml', base('2s'));
    expect(await w.check()).toEqual([]);

    write('bases/base.yaml', base('7s'));
    const changes = await w.check();
    expect(changes.map((c) => [c.kind, c.id])).toEqual([
      ['changed', 'scheme-a'],
      ['changed', 'scheme-b'],
    ]);
    expect(w.get('scheme-a')?.schedule.pollInterval).toBe('7s');
    expect(w.get('scheme-c')?.schedule.pollInterval).toBe('2s');
    expect(await w.check()).toEqual([]);

    // A broken base keeps the last good versions and reports a problem on each scheme file …
    write('bases/base.yaml', base('7s').replace('formId: PUR_MRB', 'formId: 1bad'));
    expect(await w.check()).toEqual([]);
    expect(problems.map((p) => [p.file, p.problem?.error])).toEqual([
      ['a.yaml', expect.stringMatching(/a\.yaml:1:\d+ target\.formId: .*\(in base .*base\.yaml:\d+:\d+\)/)],
      ['b.yaml', expect.stringMatching(/b\.yaml:1:\d+ target\.formId: .*\(in base .*base\.yaml/)],
    ]);
    expect(w.get('scheme-a')?.schedule.pollInterval).toBe('7s');

    // … until it is fixed.
    problems = [];
    write('bases/base.yaml', base('9s'));
    expect((await w.check()).map((c) => [c.kind, c.id])).toEqual([
      ['changed', 'scheme-a'],
      ['changed', 'scheme-b'],
    ]);
    expect(problems).toEqual([
      { file: 'a.yaml', problem: null },
      { file: 'b.yaml', problem: null },
    ]);
  });

  it('loads a scheme once its missing base appears', async () => {
    write('c.yaml', stringify({ ...validSchemeInput(), id: 'scheme-c' }));
    const w = new SchemeWatcher({ dir, intervalMs: 60_000 });
    w.load();
    write('a.yaml', shop('scheme-a'));
    expect(await w.check()).toEqual([]);
    expect(w.problems()[0].error).toMatch(/cannot read/);
    write('bases/base.yaml', base('3s'));
    expect((await w.check()).map((c) => [c.kind, c.id])).toEqual([['added', 'scheme-a']]);
    expect(w.problems()).toEqual([]);
  });
});
