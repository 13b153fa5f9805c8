import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
/** The services and their CLIs: what the image runs. */
const PRODUCTION_APPS = [
  'extractor',
  'transformer',
  'loader',
  'audit-writer',
  'reconciler',
  'operator',
  'cli',
];

function* sources(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* sources(full);
    else if (/\.ts$/.test(name) && !/\.(spec|fake|d)\.ts$/.test(name)) yield full;
  }
}

function productionFiles(): string[] {
  const files: string[] = [];
  for (const app of PRODUCTION_APPS) files.push(...sources(path.join(ROOT, 'apps', app, 'src')));
  for (const lib of readdirSync(path.join(ROOT, 'libs')))
    files.push(...sources(path.join(ROOT, 'libs', lib, 'src')));
  return files;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** Why `specifier`, imported by `file`, is not production code (undefined when it is). */
export function forbidden(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('@tools/')) return 'dev tools (@tools/*)';
  if (specifier === '@faker-js/faker' || specifier.startsWith('@faker-js/'))
    return 'faker (a dev dependency)';
  if (!specifier.startsWith('.')) return undefined;
  const target = path
    .relative(ROOT, path.resolve(path.dirname(file), specifier))
    .split(path.sep)
    .join('/');
  if (target.startsWith('tools/')) return 'dev tools (tools/)';
  if (target.startsWith('test/')) return 'tests (test/)';
  if (/^apps\/[^/]+-sandbox(\/|$)/.test(target)) return 'a sandbox (test double)';
  if (/(^|\/)bench(\/|$)|\.bench(\.ts)?$/.test(target)) return 'a benchmark';
  if (/(^|\/)testing(\/|$)/.test(target)) return 'test factories';
  return undefined;
}

function offenders(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const why = forbidden(file, m[1]);
    if (why) out.push(`${path.relative(ROOT, file)} → ${m[1]}: ${why}`);
  }
  return out;
}

describe('production code imports no test, benchmark, sandbox or dev-tool code', () => {
  it('holds for every production source file', () => {
    const files = productionFiles();
    expect(files.length).toBeGreaterThan(200);
    expect(files.flatMap((f) => offenders(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('the checker flags each kind of offending import', () => {
    const file = path.join(ROOT, 'libs', 'loading', 'src', 'x.ts');
    const text = [
      "import { StackRunner } from '@tools/devstack';",
      "import { faker } from '@faker-js/faker';",
      "import { a } from '../../../test/support/scheme/scheme-fixtures.util';",
      "import { b } from '../../../apps/kingdee-sandbox/src/main';",
      "const c = await import('../../../tools/bench/loading/load.bench');",
      "import { d } from './testing/fixtures';",
      "import { ok } from '@libs/common';",
    ].join('\n');
    expect(offenders(file, text).map((o) => o.split(': ').pop())).toEqual([
      'dev tools (@tools/*)',
      'faker (a dev dependency)',
      'tests (test/)',
      'a sandbox (test double)',
      'dev tools (tools/)',
      'test factories',
    ]);
  });

  it('faker is a dev dependency only', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies['@faker-js/faker']).toBeUndefined();
    expect(pkg.devDependencies['@faker-js/faker']).toBeDefined();
  });
});
