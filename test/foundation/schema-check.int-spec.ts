import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, ManagedProcess } from '@tools/devstack';
import { createTestEnv, TestEnv } from '../support/test-env';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/**
 * Services never migrate: the migration Job (npm run db:migrate) is the only writer of the schema,
 * so services can run as a user without DDL rights. A service on a schema behind its version stops
 * at boot naming the command; once migrated it boots.
 */
describe('migrations only from the migration Job', () => {
  let env: TestEnv;
  const schema = `t_unmigrated_${Date.now().toString(36)}`;
  const logDir = mkdtempSync(path.join(tmpdir(), 'schema-check-'));

  beforeAll(async () => {
    env = await createTestEnv('schema-check');
  });
  afterAll(async () => {
    await env.ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await env.cleanup();
  });

  const service = async (attempt: string) => {
    const port = await freePort();
    return new ManagedProcess({
      name: `transformer-${attempt}`,
      script: path.join(ROOT, 'dist/apps/transformer/src/main.js'),
      env: {
        ...env.env,
        DATABASE_SCHEMA: schema,
        APP_MODE: 'sandbox',
        LOG_LEVEL: 'info',
        SCHEMES_DIR: path.join(ROOT, 'schemes'),
        HTTP_PORT: String(port),
      },
      logFile: path.join(logDir, `${attempt}.log`),
      readyUrl: `http://127.0.0.1:${port}/ready`,
    });
  };

  it('a service on an unmigrated schema exits naming npm run db:migrate and changes nothing', async () => {
    const p = await service('behind');
    p.start();
    await expect(p.waitReady(60_000)).rejects.toThrow(/exited during start-up/);
    const log = readFileSync(path.join(logDir, 'behind.log'), 'utf8');
    expect(log).toContain(`database schema "${schema}" is behind this version`);
    expect(log).toContain('npm run db:migrate');
    const tables = await env.ds.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    expect(tables[0].n).toBe(0);
  });

  it('after the migration CLI the same service boots', async () => {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist/apps/cli/src/migrate.js')], {
      cwd: logDir,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: 'postgres://invalid-user-only-for-services@127.0.0.1:1/none',
        DATABASE_MIGRATION_URL: env.databaseUrl,
        DATABASE_SCHEMA: schema,
      },
    });
    expect(stdout).toMatch(/applied: /);
    const p = await service('current');
    p.start();
    try {
      await p.waitReady(60_000);
    } finally {
      await p.stop();
    }
  }, 120_000);
});
