import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');

/**
 * `npm run demo -- --keep` is how a newcomer first meets the console: it must sync every seeded order
 * (including the ones that wait for base data a person adds), print the console's URL and tokens,
 * and serve the console there.
 */
describe('npm run demo -- --keep', () => {
  let demo: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      const exited = new Promise((r) => demo!.once('exit', r));
      demo.kill('SIGINT');
      await exited;
    }
  });

  it('syncs the seeded orders, then prints the console URL and tokens, and the console answers there', async () => {
    demo = spawn(
      process.execPath,
      [resolve(root, 'dist/tools/demo/demo.js'), '--keep', '--orders', '15', '--live', '1'],
      { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const printed = await new Promise<RegExpExecArray>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`no console URL within 240 s:\n${output}`)), 240_000);
      const check = () => {
        const m =
          /console (http:\/\/127\.0\.0\.1:\d+)\/[\s\S]*admin\s+\(demo\):\s+(\S+)[\s\S]*viewer\s+\(viewer\):\s+(\S+)/.exec(
            output,
          );
        if (m) {
          clearTimeout(timer);
          resolveLine(m);
        }
      };
      demo!.stdout!.on('data', check);
      demo!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`demo exited with ${code} before printing the console URL:\n${output}`));
      });
    });
    expect(output).toMatch(/waiting for base data\s+\d+/);
    const [, url, adminToken, viewerToken] = printed;
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    for (const [token, role] of [
      [adminToken, 'admin'],
      [viewerToken, 'viewer'],
    ]) {
      const session = await fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      expect(session.status).toBe(200);
      expect(await session.json()).toMatchObject({ role });
      expect(session.headers.get('set-cookie')).toMatch(/wks_session=.*HttpOnly/i);
    }
  });
});
