import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const SERVICES = ['extractor', 'transformer', 'loader', 'audit-writer', 'operator', 'reconciler'];
const CLIS = ['migrate', 'provision-topics', 'replay', 'repush', 'reconcile'];

/**
 * The image's contents without the image: production dependencies only (`npm ci --omit=dev`) and the
 * production part of dist/. Every entry point must load all its modules and stop at configuration
 * validation — a module that needs a dev dependency (faker, the dev stack) fails here first.
 */
describe('production install: every entry point boots as far as config validation', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'omit-dev-'));

  beforeAll(async () => {
    for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(ROOT, f), path.join(dir, f));
    cpSync(path.join(ROOT, 'schemes'), path.join(dir, 'schemes'), { recursive: true });
    cpSync(path.join(ROOT, 'dist', 'libs'), path.join(dir, 'dist', 'libs'), { recursive: true });
    for (const app of [...SERVICES, 'cli'])
      cpSync(path.join(ROOT, 'dist', 'apps', app), path.join(dir, 'dist', 'apps', app), { recursive: true });
    await run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      {
        cwd: dir,
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }, 330_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installed no dev dependency', () => {
    for (const dev of ['@faker-js/faker', 'jest', 'typescript', 'vite', 'kubernetes-models'])
      expect([dev, existsSync(path.join(dir, 'node_modules', dev))]).toEqual([dev, false]);
  });

  const boot = async (script: string, env: Record<string, string>) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [script], {
        cwd: dir,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
      });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: `${e.stdout}${e.stderr}` };
    }
  };

  it.each(SERVICES)('%s stops at config validation, naming the missing variables', async (service) => {
    const res = await boot(path.join(dir, 'dist', 'apps', service, 'src', 'main.js'), {});
    expect(res.out).not.toMatch(/Cannot find module|MODULE_NOT_FOUND/);
    expect(res.code).not.toBe(0);
    expect(res.out).toContain(`Invalid configuration for ${service}`);
    expect(res.out).toContain('KAFKA_BROKERS');
  });

  it.each(CLIS)('the %s CLI loads and stops at its configuration or connection check', async (cli) => {
    const res = await boot(path.join(dir, 'dist', 'apps', 'cli', 'src', `${cli}.js`), {
      // migrate needs no config beyond a URL: an unreachable one stops it right after loading.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(res.out).not.toMatch(/Cannot find module|MODULE_NOT_FOUND/);
    expect(res.code).not.toBe(0);
    expect(res.out).toMatch(/Invalid configuration|Postgres unreachable|required option/);
  });
});
