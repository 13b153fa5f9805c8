import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');

/** A raw statement: `.query(` or `queryRows(` whose first text argument is SQL. */
const RAW_SQL =
  /(?:\.query|\bqueryRows)(?:<[^>]*>)?\(\s*(?:[\w.]+,\s*)?[`'"]\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE)\b/g;

/**
 * Raw statements of `text` without a `// Raw: <reason>` in the four lines above them: ordinary reads
 * and writes go through repositories or the query builder; SQL TypeORM cannot say stays raw and says why.
 */
export function unexplainedRawSql(text: string): number[] {
  const lines = text.split('\n');
  const out: number[] = [];
  for (const match of text.matchAll(RAW_SQL)) {
    const line = text.slice(0, match.index).split('\n').length;
    const above = lines.slice(Math.max(0, line - 5), line).join('\n');
    if (!/\/\/ Raw: \S/.test(above)) out.push(line);
  }
  return out;
}

describe('raw SQL in production code', () => {
  it('finds a raw statement without its reason, and accepts one with it', () => {
    const bare = 'const rows = await ds.query(\n  `SELECT 1 FROM t WHERE id = $1`,\n  [id],\n);';
    expect(unexplainedRawSql(bare)).toEqual([1]);
    expect(unexplainedRawSql(`// Raw: an advisory lock.\n${bare}`)).toEqual([]);
    expect(unexplainedRawSql('await queryRows<{ id: string }>(this.ds, `UPDATE t SET a = 1`)')).toEqual([1]);
  });

  it('every raw statement outside migrations says why TypeORM cannot say it', () => {
    const files = execFileSync('git', ['ls-files', 'libs/**/*.ts', 'apps/**/*.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && !/\.spec\.ts$|\.fake\.ts$|\/migrations\//.test(f));
    const unexplained = files.flatMap((f) =>
      unexplainedRawSql(readFileSync(join(ROOT, f), 'utf8')).map((line) => `${f}:${line}`),
    );
    expect(unexplained).toEqual([]);
  });
});
