import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceEnvironment } from './env-file';
import { ConfigValidationError } from './load-config';

describe('loadServiceEnvironment (.env of the working directory)', () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'env-file-'));
    for (const k of ['KAFKA_BROKERS', 'DATABASE_URL', 'LOG_LEVEL', 'DATABASE_SCHEMA']) delete process.env[k];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('reads .env under the real environment, which wins, and fills process.env where unset', async () => {
    writeFileSync(
      join(dir, '.env'),
      'KAFKA_BROKERS=file:9092\nDATABASE_URL=postgres://u@h/db\nLOG_LEVEL=debug\n# comment\n',
    );
    process.env.LOG_LEVEL = 'warn';
    const { config } = await loadServiceEnvironment('transformer', { cwd: dir });
    expect(config.KAFKA_BROKERS).toEqual(['file:9092']);
    expect(config.LOG_LEVEL).toBe('warn');
    expect(process.env.KAFKA_BROKERS).toBe('file:9092');
    expect(process.env.LOG_LEVEL).toBe('warn');
  });

  it('names a malformed variable from .env', async () => {
    writeFileSync(
      join(dir, '.env'),
      'KAFKA_BROKERS=file:9092\nDATABASE_URL=postgres://u@h/db\nDATABASE_SCHEMA=Bad!\n',
    );
    await expect(loadServiceEnvironment('transformer', { cwd: dir })).rejects.toThrow(ConfigValidationError);
    await expect(loadServiceEnvironment('transformer', { cwd: dir })).rejects.toThrow(
      /DATABASE_SCHEMA: must be a lower-case SQL identifier \(got "Bad!"\)/,
    );
  });

  it('takes an explicit environment as it is: no .env, process.env untouched', async () => {
    writeFileSync(join(dir, '.env'), 'LOG_LEVEL=debug\n');
    const { config } = await loadServiceEnvironment('transformer', {
      cwd: dir,
      env: { KAFKA_BROKERS: 'x:1', DATABASE_URL: 'postgres://u@h/db' },
    });
    expect(config.LOG_LEVEL).toBe('info');
    expect(process.env.KAFKA_BROKERS).toBeUndefined();
    expect(process.env.LOG_LEVEL).toBeUndefined();
  });
});
