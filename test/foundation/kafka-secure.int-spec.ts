import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort, ManagedProcess } from '@tools/devstack';
import { SecureKafka, startSecureKafka } from '../support/secure-kafka';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const CLI = (name: string) => path.join(ROOT, 'dist/apps/cli/src', `${name}.js`);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
const id = randomBytes(3).toString('hex');
const schema = `secure_${id}`;
const topics = {
  TOPIC_RAW_STOCKOUT: `sec-${id}-raw`,
  TOPIC_KINGDEE_DOCUMENT: `sec-${id}-doc`,
  TOPIC_AUDIT: `sec-${id}-audit`,
  TOPIC_DEAD_LETTER: `sec-${id}-dlq`,
};
const cwd = mkdtempSync(path.join(tmpdir(), 'secure-cli-'));

async function cli(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI(name), ...args], {
      cwd,
      timeout: 90_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        SCHEMES_DIR: path.join(ROOT, 'schemes'),
        APP_MODE: 'sandbox',
        ...topics,
        ...env,
      },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe('Kafka over SASL_SSL: services, CLIs and the setup Job connect with the CA and credentials', () => {
  let broker: SecureKafka;
  let scram: Record<string, string>;

  beforeAll(async () => {
    broker = await startSecureKafka();
    scram = {
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_SSL_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: broker.users.scram256.username,
      KAFKA_SASL_PASSWORD: broker.users.scram256.password,
    };
  }, 150_000);

  afterAll(async () => {
    await broker?.stop();
    const pg = new Client({ connectionString: DATABASE_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it('the setup Job provisions topics with SCRAM-SHA-256 and migrates', async () => {
    const provision = await cli('provision-topics', [], scram);
    expect(provision).toMatchObject({ code: 0 });
    expect(provision.out).toContain(`create    ${topics.TOPIC_RAW_STOCKOUT}`);
    const migrate = await cli('migrate', [], {});
    expect(migrate.code).toBe(0);
  });

  it('PLAIN and SCRAM-SHA-512 users connect too', async () => {
    const plain = await cli('provision-topics', ['--dry-run'], {
      ...scram,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: broker.users.plain.username,
      KAFKA_SASL_PASSWORD: broker.users.plain.password,
    });
    expect(plain).toMatchObject({ code: 0 });
    expect(plain.out).toContain(`unchanged ${topics.TOPIC_RAW_STOCKOUT}`);
    const s512 = await cli('provision-topics', ['--dry-run'], {
      ...scram,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: broker.users.scram512.username,
      KAFKA_SASL_PASSWORD: broker.users.scram512.password,
    });
    expect(s512).toMatchObject({ code: 0 });
  });

  it('a CLI (replay) reaches the secured cluster through the same builder', async () => {
    const res = await cli('replay', ['--from', 'beginning', '--quiet'], scram);
    expect(res.out).not.toMatch(/unreachable|certificate|SASL/i);
    expect(res).toMatchObject({ code: 0 });
  });

  it('a service boots to ready against the secured cluster', async () => {
    const port = await freePort();
    const service = new ManagedProcess({
      name: 'audit-writer',
      script: path.join(ROOT, 'dist/apps/audit-writer/src/main.js'),
      env: {
        ...scram,
        ...topics,
        APP_MODE: 'sandbox',
        LOG_LEVEL: 'warn',
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        SCHEMES_DIR: path.join(ROOT, 'schemes'),
        HTTP_PORT: String(port),
      },
      logFile: path.join(cwd, 'audit-writer.log'),
      readyUrl: `http://127.0.0.1:${port}/ready`,
    });
    service.start();
    try {
      await service.waitReady(60_000);
    } finally {
      await service.stop();
    }
    expect(readFileSync(path.join(cwd, 'audit-writer.log'), 'utf8')).not.toContain(
      broker.users.scram256.password,
    );
  }, 90_000);

  it('without the CA the client fails on the certificate', async () => {
    const { KAFKA_SSL_CA_FILE: _ca, ...noCa } = scram;
    const res = await cli('provision-topics', ['--dry-run'], { ...noCa, KAFKA_SSL: 'true' });
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/certificate/i);
  });

  it('a wrong password fails with a message naming the mechanism, never the password', async () => {
    const res = await cli('provision-topics', ['--dry-run'], {
      ...scram,
      KAFKA_SASL_PASSWORD: 'wrong-pw-42',
    });
    expect(res.code).toBe(1);
    expect(res.out).toContain('mechanism scram-sha-256');
    expect(res.out).not.toContain('wrong-pw-42');
  });

  it('partial SASL settings stop the setup Job before it connects', async () => {
    const res = await cli('provision-topics', ['--dry-run'], {
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_SSL_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
    });
    expect(res.code).toBe(1);
    expect(res.out).toContain('KAFKA_SASL_USERNAME: required');
  });

  it('no source file turns TLS verification off', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (/\.(ts|tsx|js)$/.test(name) && file !== __filename) {
          if (/rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED/.test(readFileSync(file, 'utf8')))
            offenders.push(path.relative(ROOT, file));
        }
      }
    };
    for (const dir of ['apps', 'libs', 'examples', 'scripts', 'test', 'tools']) {
      try {
        walk(path.join(ROOT, dir));
      } catch {
        /* folder absent */
      }
    }
    expect(offenders).toEqual([]);
  });
});
