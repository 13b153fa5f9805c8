import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@tools/devstack';
import { startWdtSandbox, WdtSandbox } from '../../apps/wdt-sandbox/src';
import { createTestEnv, TestEnv } from '../support/test-env';

/**
 * The mistakes a new user makes while setting up (issue 10, finding 6), each answered at once with a
 * message that names the problem and the fix. The tools run as a user runs them: built CLIs and
 * services as processes, stdout piped (off a terminal), against the real broker and Postgres.
 */
const root = resolve(__dirname, '../..');
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
/** Only a guard against a hanging process (the old behaviour); no test depends on how fast anything is. */
const GUARD_MS = 25_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(
  script: string,
  args: string[],
  options: { env: Record<string, string | undefined>; cwd?: string },
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(root, 'dist', script), ...args], {
      cwd: options.cwd ?? root,
      // Exactly the given variables: nothing leaks in from the test runner's environment.
      env: { PATH: process.env.PATH, ...options.env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const guard = setTimeout(() => {
      stderr += `\n[test guard: killed after ${GUARD_MS} ms]`;
      child.kill('SIGKILL');
    }, GUARD_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ code, stdout, stderr });
    });
  });
}

const cli = (
  name: string,
  args: string[],
  options: { env: Record<string, string | undefined>; cwd?: string },
) => runNode(`apps/cli/src/${name}.js`, args, options);

describe('setup mistakes: named at once, with the fix (real broker, real Postgres)', () => {
  let t: TestEnv;
  let wdt: WdtSandbox;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    t = await createTestEnv('setup');
    wdt = await startWdtSandbox({ port: 0, knobs: { callsPerMinute: 0 } });
    env = {
      ...t.env,
      LOG_LEVEL: 'error',
      SCHEMES_DIR: join(root, 'schemes'),
      WDT_GATEWAY: 'native',
      WDT_BASE_URL: wdt.url,
      WDT_SID: wdt.account.sid,
      WDT_APPKEY: wdt.account.appkey,
      WDT_APPSECRET: wdt.account.appsecret,
    };
    dir = mkdtempSync(join(tmpdir(), 'wdt-kingdee-dotenv-'));
  });

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await wdt?.close();
    await t?.cleanup();
  });

  const pendingRows = async (schemeId: string, orderNo: string): Promise<number> => {
    const [{ n }] = await t.ds.query(
      `SELECT count(*)::int AS n FROM resync_requests WHERE scheme_id = $1 AND order_no = $2`,
      [schemeId, orderNo],
    );
    return n as number;
  };

  it('names a topic that does not exist and `npm run topics:provision`, from a CLI and from a service', async () => {
    const missing = {
      TOPIC_RAW_STOCKOUT: `test.${t.suffix}.missing.raw`,
      TOPIC_KINGDEE_DOCUMENT: `test.${t.suffix}.missing.document`,
    };
    const [replay, transformer] = await Promise.all([
      cli('replay', ['--from', 'beginning', '--quiet'], { env: { ...env, ...missing } }),
      runNode('apps/transformer/src/main.js', [], {
        env: { ...env, ...missing, HTTP_PORT: String(await freePort()), KAFKA_GROUP_ID: `setup-${t.suffix}` },
      }),
    ]);
    for (const [what, run] of [
      ['replay', replay],
      ['transformer', transformer],
    ] as const) {
      expect([what, run.code]).toEqual([what, 1]);
      expect([what, run.stderr]).toEqual([what, expect.stringContaining(missing.TOPIC_RAW_STOCKOUT)]);
      expect([what, run.stderr]).toEqual([what, expect.stringContaining('npm run topics:provision')]);
    }
  });

  it('reads .env from the working directory; a real variable wins; a malformed .env value is named', async () => {
    const dotenv = (over: Record<string, string>) =>
      writeFileSync(
        join(dir, '.env'),
        `# written by the test\n${Object.entries({ ...env, ...over })
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      );
    dotenv({});
    const fromFile = await cli('resync', ['--scheme', SCHEME, '--order', 'CT-DOTENV-1', '--no-wait'], {
      env: {},
      cwd: dir,
    });
    expect([fromFile.code, fromFile.stderr]).toEqual([0, '']);
    expect(await pendingRows(SCHEME, 'CT-DOTENV-1')).toBe(1);

    dotenv({ DATABASE_SCHEMA: 'Not-A-Schema!' });
    const [malformedService, envWins] = await Promise.all([
      runNode('apps/audit-writer/src/main.js', [], { env: {}, cwd: dir }),
      cli('resync', ['--scheme', SCHEME, '--order', 'CT-DOTENV-3', '--no-wait'], {
        env: { DATABASE_SCHEMA: t.schema },
        cwd: dir,
      }),
    ]);
    expect(malformedService.code).toBe(1);
    expect(malformedService.stderr).toMatch(
      /DATABASE_SCHEMA: must be a lower-case SQL identifier \(got "Not-A-Schema!"\)/,
    );
    expect([envWins.code, envWins.stderr]).toEqual([0, '']);
    expect(await pendingRows(SCHEME, 'CT-DOTENV-3')).toBe(1);
  });

  it('refuses an unknown scheme at once, listing the known ones, and leaves no request behind', async () => {
    const runs = await Promise.all([
      cli('resync', ['--scheme', 'nosuch', '--order', 'CT-NOSUCH-1'], { env }),
      cli(
        'backfill',
        ['--scheme', 'nosuch', '--from', '2026-11-01 00:00:00', '--to', '2026-11-02 00:00:00'],
        {
          env,
        },
      ),
      cli('repush', ['--scheme', 'nosuch', '--all-failed'], { env }),
    ]);
    for (const run of runs) {
      expect([run.code, run.stderr]).toEqual([1, expect.stringContaining('unknown scheme "nosuch"')]);
      expect(run.stderr).toContain(`known schemes: ${SCHEME}`);
    }
    expect(await pendingRows('nosuch', 'CT-NOSUCH-1')).toBe(0);
  });

  it('refuses a range whose start is after its end', async () => {
    // replay's check is the same function (unit-tested in apps/cli/src/cli-runtime.spec.ts).
    const backfill = await cli('backfill', ['--from', '2026-11-02 00:00:00', '--to', '2026-11-01 00:00:00'], {
      env,
    });
    expect([backfill.code, backfill.stderr]).toEqual([
      1,
      expect.stringContaining('--from (2026-11-02 00:00:00) is after --to (2026-11-01 00:00:00)'),
    ]);
  });

  it('prints plain progress lines off a terminal: no {placeholders}, no ETA INF', async () => {
    const res = await fetch(`${wdt.url}/admin/orders/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        count: 12,
        seed: 7,
        from: '2026-10-03 00:00:00',
        to: '2026-10-04 00:00:00',
        statusWeights: { '110': 1 },
      }),
    });
    expect(res.status).toBe(200);
    const backfill = await cli(
      'backfill',
      ['--scheme', SCHEME, '--from', '2026-10-02 00:00:00', '--to', '2026-10-05 00:00:00'],
      { env },
    );
    const replay = await cli('replay', ['--from', 'beginning'], { env });
    for (const run of [backfill, replay]) {
      const output = `${run.stdout}\n${run.stderr}`;
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(output).not.toMatch(/\{[a-z_]+\}/);
      expect(output).not.toMatch(/INF/);
    }
    expect(backfill.stdout).toMatch(
      new RegExp(`^backfill ${SCHEME}: window 1/1, 12 records, 12 emitted`, 'm'),
    );
    expect(backfill.stdout).toMatch(new RegExp(`^${SCHEME}: 12 records in 1 windows, 12 emitted`, 'm'));
    expect(replay.stdout).toMatch(/^replay transform: 12\/12 messages/m);
    expect(replay.stdout).toMatch(/^replayed 12 messages of /m);
  });
});
