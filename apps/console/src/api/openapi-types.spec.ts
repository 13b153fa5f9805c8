import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// openapi-typescript is ESM-only; Jest's CommonJS runtime cannot load it, so a child Node runs its
// API (the same generator `npm run console:api` runs) and prints the types.
const root = join(__dirname, '../../../..');
const generate = `
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { pathToFileURL } from 'node:url';
const ast = await openapiTS(pathToFileURL(process.argv[1]));
process.stdout.write(COMMENT_HEADER + astToString(ast));
`;

describe('the console client types', () => {
  it('match docs/openapi.json (run `npm run console:api` when this fails)', () => {
    const fresh = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', generate, join(root, 'docs/openapi.json')],
      { cwd: root, encoding: 'utf8' },
    );
    const committed = readFileSync(join(root, 'apps/console/src/api/openapi.d.ts'), 'utf8');
    expect(committed).toBe(fresh);
  });
});
