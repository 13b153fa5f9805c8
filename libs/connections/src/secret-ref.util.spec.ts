import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionsConfigError } from './connections.errors';
import { resolveSecret } from './secret-ref.util';

const KD = { kind: 'kingdee' as const, connection: 'acct-main', field: 'appSecret' };
const WDT = { kind: 'wdt' as const, connection: 'shop-c', field: 'qimen.appSecret' };

/** The error `fn` throws (failing the test when it throws none or another kind). */
function errorOf(fn: () => unknown): ConnectionsConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectionsConfigError);
    return err as ConnectionsConfigError;
  }
  throw new Error('expected a ConnectionsConfigError');
}

describe('resolveSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'secret-ref-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads an environment variable as it is', () => {
    expect(resolveSecret({ env: 'KD_MAIN_APPSECRET' }, KD, { KD_MAIN_APPSECRET: ' s3cr3t\n' })).toBe(
      ' s3cr3t\n',
    );
  });

  it('names the connection, the field and the variable when it is not set (or empty), never a value', () => {
    const env = { OTHER: 'other-secret-value' };
    expect(errorOf(() => resolveSecret({ env: 'KD_MAIN_APPSECRET' }, KD, env)).message).toBe(
      'Kingdee connection "acct-main": appSecret refers to environment variable KD_MAIN_APPSECRET, which is not set',
    );
    expect(errorOf(() => resolveSecret({ env: 'QIMEN_SECRET' }, WDT, { QIMEN_SECRET: '' })).message).toBe(
      'WDT connection "shop-c": qimen.appSecret refers to environment variable QIMEN_SECRET, which is not set',
    );
  });

  it('reads a file and drops the one trailing newline a Kubernetes Secret file has', () => {
    expect(resolveSecret({ file: file('lf', 'from-file-1\n') }, KD, {})).toBe('from-file-1');
    expect(resolveSecret({ file: file('crlf', 'from-file-2\r\n') }, KD, {})).toBe('from-file-2');
    expect(resolveSecret({ file: file('none', 'from-file-3') }, KD, {})).toBe('from-file-3');
    // Only one: anything else is the secret's own content.
    expect(resolveSecret({ file: file('two', 'from-file-4\n\n') }, KD, {})).toBe('from-file-4\n');
    expect(resolveSecret({ file: file('inner', ' a b \n') }, KD, {})).toBe(' a b ');
  });

  it('names the connection, the field and the file when it is missing, unreadable or empty', () => {
    const missing = join(dir, 'missing');
    expect(errorOf(() => resolveSecret({ file: missing }, KD, {})).message).toBe(
      `Kingdee connection "acct-main": appSecret refers to file ${missing}, which cannot be read (ENOENT)`,
    );
    const directory = join(dir, 'a-directory');
    mkdirSync(directory);
    expect(errorOf(() => resolveSecret({ file: directory }, WDT, {})).message).toBe(
      `WDT connection "shop-c": qimen.appSecret refers to file ${directory}, which cannot be read (EISDIR)`,
    );
    for (const text of ['', '\n', '\r\n']) {
      const empty = file('empty', text);
      expect(errorOf(() => resolveSecret({ file: empty }, KD, {})).message).toBe(
        `Kingdee connection "acct-main": appSecret refers to file ${empty}, which is empty`,
      );
    }
  });
});
