import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';

const ROOT = path.resolve(__dirname, '../..');

/** Applies .dockerignore with Docker's own matching rules to the working tree: the image's build context. */
function buildContext(): { kept: Set<string>; ignored: Set<string> } {
  const ig = dockerignore({ ignorecase: false }).add(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
  const kept = new Set<string>();
  const ignored = new Set<string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(ROOT, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (ig.ignores(child)) {
        ignored.add(child);
        continue; // Docker does not descend into an excluded folder without a re-include
      }
      if (statSync(path.join(ROOT, child)).isDirectory()) walk(child);
      else kept.add(child);
    }
  };
  walk('');
  return { kept, ignored };
}

describe('.dockerignore: the build context holds what the image builds from, nothing else', () => {
  const { kept, ignored } = buildContext();

  it('excludes the repository, local infrastructure, dependencies and build output', () => {
    for (const p of ['.git', '.infra', 'node_modules', 'dist', 'test', 'tools'])
      if (statExists(p)) expect([p, ignored.has(p)]).toEqual([p, true]);
    expect([...kept].filter((f) => /(^|\/)(node_modules|\.git|\.infra)\//.test(f))).toEqual([]);
    expect([...kept].filter((f) => /\.spec\.tsx?$/.test(f))).toEqual([]);
  });

  it('keeps what `npm ci && npm run build` needs', () => {
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.js', 'Dockerfile'])
      expect([f, kept.has(f)]).toEqual([f, true]);
    for (const dir of ['apps/loader/src/', 'libs/kafka/src/', 'schemes/', 'apps/console/'])
      expect([dir, [...kept].some((f) => f.startsWith(dir))]).toEqual([dir, true]);
  });

  it('never sends production settings or secrets', () => {
    expect([...kept].filter((f) => f.startsWith('deploy/compose/production/') || f === '.env')).toEqual([]);
  });
});

function statExists(rel: string): boolean {
  try {
    statSync(path.join(ROOT, rel));
    return true;
  } catch {
    return false;
  }
}
