import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { SchemeWatcher } from './scheme-watcher.service';

/**
 * SCHEMES_DIR as Kubernetes mounts a ConfigMap volume (deploy/k8s, no subPath): each key is a symlink
 * `<key> -> ..data/<key>`, `..data` a symlink to a timestamped directory holding the files. An update
 * writes a new timestamped directory, points `..data_tmp` at it and renames that over `..data`
 * (atomic), adds and removes the keys' symlinks, then deletes the old directory — the kubelet's
 * AtomicWriter, done here step by step.
 */

const shipped = parse(
  fs.readFileSync(
    path.join(__dirname, '../../../schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml'),
    'utf8',
  ),
) as Record<string, unknown>;
const schemeText = (id: string, name: string) => stringify({ ...shipped, id, name });

describe('SchemeWatcher on a ConfigMap volume (..data symlink swap)', () => {
  let dir: string;
  let generation = 0;

  /** One ConfigMap version, as the kubelet writes it. */
  const publish = (files: Record<string, string>, times?: Date) => {
    const current = fs.existsSync(path.join(dir, '..data'))
      ? fs.readlinkSync(path.join(dir, '..data'))
      : undefined;
    generation += 1;
    const version = `..2026_12_05_12_00_00.00000000${generation}`;
    fs.mkdirSync(path.join(dir, version));
    for (const [key, text] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, version, key), text);
      if (times) fs.utimesSync(path.join(dir, version, key), times, times);
    }
    fs.symlinkSync(version, path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    for (const key of Object.keys(files))
      if (!fs.existsSync(path.join(dir, key)) && !isLink(key))
        fs.symlinkSync(path.join('..data', key), path.join(dir, key));
    for (const entry of fs.readdirSync(dir))
      if (!entry.startsWith('..') && !(entry in files)) fs.unlinkSync(path.join(dir, entry));
    if (current) fs.rmSync(path.join(dir, current), { recursive: true });
  };
  const isLink = (key: string) => {
    try {
      return fs.lstatSync(path.join(dir, key)).isSymbolicLink();
    } catch {
      return false;
    }
  };
  const watcher = () => new SchemeWatcher({ dir, intervalMs: 60_000 });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheme-configmap-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the keys (symlinks), not the ..data link or the timestamped directory', () => {
    publish({ 'a.yaml': schemeText('scheme-a', 'first') });
    expect(fs.lstatSync(path.join(dir, 'a.yaml')).isSymbolicLink()).toBe(true);
    const w = watcher();
    expect(w.load().map((s) => s.id)).toEqual(['scheme-a']);
    expect(w.fileOf('scheme-a')).toBe(path.join(dir, 'a.yaml'));
  });

  it('reloads an edited key after the swap, even with the same size and mtime', async () => {
    const mtime = new Date('2026-12-05T12:00:00Z');
    publish({ 'a.yaml': schemeText('scheme-a', 'nameA') }, mtime);
    const w = watcher();
    w.load();
    expect(await w.check()).toEqual([]);
    publish({ 'a.yaml': schemeText('scheme-a', 'nameB') }, mtime);
    expect((await w.check()).map((c) => [c.kind, c.id])).toEqual([['changed', 'scheme-a']]);
    expect(w.get('scheme-a')?.name).toBe('nameB');
    expect(await w.check()).toEqual([]);
  });

  it('adds and removes schemes as keys come and go', async () => {
    publish({ 'a.yaml': schemeText('scheme-a', 'A') });
    const w = watcher();
    w.load();
    publish({ 'b.yaml': schemeText('scheme-b', 'B') });
    expect((await w.check()).map((c) => [c.kind, c.id])).toEqual([
      ['removed', 'scheme-a'],
      ['added', 'scheme-b'],
    ]);
    expect(w.schemes().map((s) => s.id)).toEqual(['scheme-b']);
  });
});
