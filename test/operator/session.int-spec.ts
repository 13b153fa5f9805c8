import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditRepository } from '@libs/audit';
import { ManualClock } from '@libs/common';
import { DeadLetterEnvelope } from '@libs/contracts';
import { SessionView } from '@libs/operator';
import { OperatorAppModule } from '../../apps/operator/src/app.module';
import { createTestEnv, TestEnv } from '../support/test-env';

/**
 * Console sign-in against a real operator app (real Postgres, real Kafka): the session cookie, CSRF,
 * roles, masked personal data, legacy tokens, and the console's bundle served at `/`.
 */
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const NOW = Date.parse('2026-11-28T04:00:00.000Z');
const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
const ADMIN = secret('admin');
const OPERATOR = secret('operator');
const VIEWER = secret('viewer');
const LEGACY = secret('legacy');
const TOKENS = `ada:admin:${ADMIN},otto:operator:${OPERATOR},vic:viewer:${VIEWER},old:${LEGACY}`;
const INDEX_HTML = '<!doctype html><html><body><div id="root">console</div></body></html>';

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

async function send(
  base: string,
  path: string,
  init: { method?: string; bearer?: string; cookie?: string; csrf?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf) headers['x-csrf-token'] = init.csrf;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // HTML or empty: callers read `text`.
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Signs in; answers the cookie pair to send back, the Set-Cookie header and the session. */
async function signIn(base: string, token: string) {
  const res = await send(base, '/api/session', { method: 'POST', body: { token } });
  expect([res.status, res.body]).toEqual([200, expect.anything()]);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const pair = setCookie.split(';')[0];
  expect(pair).toMatch(/^wks_session=[A-Za-z0-9_-]{40,}$/);
  return { cookie: pair, setCookie, session: SessionView.parse(res.body) };
}

async function boot(env: Record<string, string>, clock: ManualClock): Promise<[INestApplication, string]> {
  const app = await NestFactory.create(OperatorAppModule.create(env, { clock }), { logger: false });
  await app.listen(0, '127.0.0.1');
  return [app, `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`];
}

describe('operator sign-in, roles and the console bundle (real Postgres, real Kafka)', () => {
  let t: TestEnv;
  let app: INestApplication;
  let base: string;
  let consoleDir: string;
  const clock = new ManualClock(NOW);
  const deadLetterId = randomUUID();

  beforeAll(async () => {
    t = await createTestEnv('session');
    consoleDir = mkdtempSync(join(tmpdir(), 'wks-console-'));
    writeFileSync(join(consoleDir, 'index.html'), INDEX_HTML);
    mkdirSync(join(consoleDir, 'assets'));
    writeFileSync(join(consoleDir, 'assets', 'app-1234.js'), 'console.log("app");\n');
    const record = {
      order_no: 'CT-PII-1',
      receiver_name: '张三丰',
      receiver_mobile: '13812345678',
      receiver_address: '广东省深圳市南山区科技园科苑路15号',
    };
    const envelope: DeadLetterEnvelope = {
      eventType: 'sync.dead-letter',
      schemaVersion: 1,
      eventId: deadLetterId,
      stage: 'transformer',
      schemeId: SCHEME,
      sourceKey: 'CT-PII-1',
      errorClass: 'MappingError',
      errorMessage: 'FSupplierId: no value map entry',
      attempts: 1,
      occurredAt: new Date(NOW - 60_000).toISOString(),
      origin: { topic: t.topics.rawStockout, partition: 0, offset: '1', key: 'CT-PII-1' },
      payload: { storage: 'inline', encoding: 'utf8', data: JSON.stringify({ record }) },
    };
    await new AuditRepository(t.ds).recordDeadLetters([envelope]);
    // Production mode (the default outside the sandbox): the cookie is Secure.
    [app, base] = await boot(
      {
        ...t.env,
        APP_MODE: 'production',
        OPERATOR_TOKENS: TOKENS,
        OPERATOR_SESSION_TTL_HOURS: '2',
        OPERATOR_CONSOLE_DIR: consoleDir,
        SCHEMES_DIR: 'schemes',
        LOG_LEVEL: 'silent',
      },
      clock,
    );
  });

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  describe('sign-in', () => {
    it('sets an HttpOnly, SameSite=Strict, Secure cookie and answers name, role, CSRF token and expiry', async () => {
      const { setCookie, session, cookie } = await signIn(base, ADMIN);
      expect(setCookie).toMatch(/; HttpOnly/);
      expect(setCookie).toMatch(/; SameSite=Strict/);
      expect(setCookie).toMatch(/; Secure/);
      expect(setCookie).toMatch(/; Path=\//);
      expect(setCookie).toMatch(/; Max-Age=7200/);
      expect(session).toMatchObject({
        name: 'ada',
        role: 'admin',
        expiresAt: '2026-11-28T14:00:00.000+08:00',
      });
      expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      // Only a hash of the session id is stored.
      const id = cookie.split('=')[1];
      const rows: Array<{ id_hash: Buffer; token_name: string; role: string; csrf_token: string }> =
        await t.ds.query(`SELECT id_hash, token_name, role, csrf_token FROM operator_sessions`);
      const mine = rows.find((r) => r.csrf_token === session.csrfToken);
      expect(mine).toMatchObject({ token_name: 'ada', role: 'admin' });
      expect(mine!.id_hash.equals(createHash('sha256').update(id).digest())).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(id);
      const [action] = await t.ds.query(
        `SELECT token_name, action, outcome FROM operator_actions WHERE action = 'session.sign_in' LIMIT 1`,
      );
      expect(action).toEqual({ token_name: 'ada', action: 'session.sign_in', outcome: 'ok' });
    });

    it('refuses a wrong token with 401 and sets no cookie', async () => {
      const res = await send(base, '/api/session', {
        method: 'POST',
        body: { token: `${ADMIN.slice(0, -1)}${ADMIN.endsWith('0') ? '1' : '0'}` },
      });
      expect([res.status, res.body.message]).toEqual([401, 'invalid token']);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect((await send(base, '/api/session', { method: 'POST', body: {} })).status).toBe(400);
    });

    it('GET /api/session answers the caller, by cookie or by bearer; 401 without either', async () => {
      const { cookie, session } = await signIn(base, VIEWER);
      const byCookie = await send(base, '/api/session', { cookie });
      expect([byCookie.status, byCookie.body]).toEqual([200, { ...session }]);
      const byBearer = await send(base, '/api/session', { bearer: OPERATOR });
      expect([byBearer.status, byBearer.body]).toEqual([
        200,
        { name: 'otto', role: 'operator', csrfToken: null, expiresAt: null },
      ]);
      const none = await send(base, '/api/session');
      expect([none.status, none.body.message]).toEqual([401, 'missing bearer token or session']);
      const forged = await send(base, '/api/session', { cookie: 'wks_session=not-a-session' });
      expect(forged.status).toBe(401);
    });
  });

  describe('CSRF', () => {
    it('a cookie GET needs no token; a cookie POST needs X-CSRF-Token equal to the session', async () => {
      const { cookie, session } = await signIn(base, ADMIN);
      expect((await send(base, '/api/audit/stats', { cookie })).status).toBe(200);
      const without = await send(base, '/api/base-data/check', { method: 'POST', cookie });
      expect([without.status, without.body.message]).toEqual([403, 'missing or invalid CSRF token']);
      const wrong = await send(base, '/api/base-data/check', {
        method: 'POST',
        cookie,
        csrf: `${session.csrfToken}x`,
      });
      expect([wrong.status, wrong.body.message]).toEqual([403, 'missing or invalid CSRF token']);
      const ok = await send(base, '/api/base-data/check', {
        method: 'POST',
        cookie,
        csrf: session.csrfToken!,
      });
      expect(ok.status).toBe(202);
      const [row] = await t.ds.query(
        `SELECT requested_by FROM base_data_check_requests ORDER BY requested_at DESC LIMIT 1`,
      );
      expect(row).toEqual({ requested_by: 'ada' });
    });

    it('a bearer POST needs no CSRF token', async () => {
      expect((await send(base, '/api/base-data/check', { method: 'POST', bearer: ADMIN })).status).toBe(202);
    });

    it('sign-out needs the CSRF token, ends the session and clears the cookie', async () => {
      const { cookie, session } = await signIn(base, VIEWER);
      expect((await send(base, '/api/session', { method: 'DELETE', cookie })).status).toBe(403);
      const out = await send(base, '/api/session', { method: 'DELETE', cookie, csrf: session.csrfToken! });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^wks_session=;.*Expires=Thu, 01 Jan 1970/);
      expect((await send(base, '/api/session', { cookie })).status).toBe(401);
    });
  });

  describe('roles', () => {
    it('a viewer cannot act (403 naming the role), by bearer or by cookie with CSRF', async () => {
      const bearer = await send(base, '/api/repush', {
        method: 'POST',
        bearer: VIEWER,
        body: { orderNos: ['CT-PII-1'] },
      });
      expect([bearer.status, bearer.body.message]).toEqual([
        403,
        'role viewer may not POST /api/repush (needs operator)',
      ]);
      const { cookie, session } = await signIn(base, VIEWER);
      const byCookie = await send(base, '/api/repush', {
        method: 'POST',
        cookie,
        csrf: session.csrfToken!,
        body: { orderNos: ['CT-PII-1'] },
      });
      expect(byCookie.status).toBe(403);
      expect(
        (await send(base, `/api/schemes/${SCHEME}/pause`, { method: 'POST', bearer: VIEWER, body: {} }))
          .status,
      ).toBe(403);
      // Nothing was requested on the viewer's behalf.
      const rows = await t.ds.query(`SELECT 1 FROM resync_requests WHERE requested_by = 'vic'`);
      expect(rows).toEqual([]);
    });

    it('an operator can act', async () => {
      expect((await send(base, '/api/base-data/check', { method: 'POST', bearer: OPERATOR })).status).toBe(
        202,
      );
    });

    it('viewers and operators get personal data masked and may not reveal it; admins may', async () => {
      for (const token of [VIEWER, OPERATOR]) {
        const masked = await send(base, `/api/dead-letters/${deadLetterId}`, { bearer: token });
        expect(masked.status).toBe(200);
        expect(masked.text).not.toContain('13812345678');
        expect(masked.text).not.toContain('张三丰');
        expect(masked.text).toContain('138****5678');
        for (const path of [
          `/api/dead-letters/${deadLetterId}?reveal=pii`,
          `/api/dead-letters/${deadLetterId}/payload?reveal=pii`,
          '/api/audit/orders/CT-PII-1?reveal=pii',
        ]) {
          const refused = await send(base, path, { bearer: token });
          expect([path, refused.status, refused.text]).toEqual([
            path,
            403,
            expect.stringContaining('may not reveal personal data (reveal=pii needs admin)'),
          ]);
        }
      }
      const clear = await send(base, `/api/dead-letters/${deadLetterId}?reveal=pii`, { bearer: ADMIN });
      expect(clear.status).toBe(200);
      expect(clear.text).toContain('13812345678');
      expect(clear.text).toContain('张三丰');
    });

    it('the legacy name:token form works as admin', async () => {
      const who = await send(base, '/api/session', { bearer: LEGACY });
      expect(who.body).toMatchObject({ name: 'old', role: 'admin' });
      const clear = await send(base, `/api/dead-letters/${deadLetterId}?reveal=pii`, { bearer: LEGACY });
      expect([clear.status, clear.text.includes('13812345678')]).toEqual([200, true]);
      expect((await send(base, '/api/base-data/check', { method: 'POST', bearer: LEGACY })).status).toBe(202);
      const { session } = await signIn(base, LEGACY);
      expect(session).toMatchObject({ name: 'old', role: 'admin' });
    });
  });

  describe('expiry', () => {
    afterEach(() => clock.set(NOW));

    it('an expired session answers 401; the next sign-in deletes expired rows', async () => {
      const { cookie } = await signIn(base, OPERATOR);
      expect((await send(base, '/api/session', { cookie })).status).toBe(200);
      clock.advance(2 * 3_600_000 + 1);
      const expired = await send(base, '/api/session', { cookie });
      expect([expired.status, expired.body.message]).toEqual([
        401,
        'session expired or signed out: sign in again',
      ]);
      const [before] = await t.ds.query(
        `SELECT count(*)::int AS n FROM operator_sessions WHERE expires_at <= $1`,
        [new Date(clock.now())],
      );
      expect(before.n).toBeGreaterThan(0);
      await signIn(base, OPERATOR);
      const [after] = await t.ds.query(
        `SELECT count(*)::int AS n FROM operator_sessions WHERE expires_at <= $1`,
        [new Date(clock.now())],
      );
      expect(after.n).toBe(0);
    });
  });

  describe('the console bundle', () => {
    it('serves index.html at / and for client routes; /api, /health and /metrics stay the API', async () => {
      const root = await send(base, '/');
      expect([root.status, root.text]).toEqual([200, INDEX_HTML]);
      expect(root.headers.get('content-type')).toMatch(/^text\/html/);
      expect(root.headers.get('x-frame-options')).toBe('DENY');
      const client = await send(base, '/orders/CT-PII-1');
      expect([client.status, client.text]).toEqual([200, INDEX_HTML]);
      const asset = await send(base, '/assets/app-1234.js');
      expect([asset.status, asset.text]).toEqual([200, 'console.log("app");\n']);
      expect(asset.headers.get('cache-control')).toMatch(/immutable/);
      const api = await send(base, '/api/nope', { bearer: ADMIN });
      expect(api.status).toBe(404);
      expect(api.headers.get('content-type')).toMatch(/^application\/json/);
      expect(api.body).toMatchObject({ statusCode: 404 });
      expect((await send(base, '/api/nope/deeper')).headers.get('content-type')).toMatch(/json/);
      expect((await send(base, '/health')).body).toMatchObject({ status: 'ok' });
      const metrics = await send(base, '/metrics');
      expect(metrics.text).not.toContain('<div id="root">');
    });
  });

  describe('in the sandbox, without a bundle', () => {
    let sandboxApp: INestApplication;
    let sandboxBase: string;
    const missing = join(tmpdir(), `wks-no-console-${randomBytes(4).toString('hex')}`);

    beforeAll(async () => {
      [sandboxApp, sandboxBase] = await boot(
        {
          ...t.env,
          APP_MODE: 'sandbox',
          OPERATOR_TOKENS: TOKENS,
          OPERATOR_CONSOLE_DIR: missing,
          SCHEMES_DIR: 'schemes',
          LOG_LEVEL: 'silent',
        },
        clock,
      );
    });

    afterAll(async () => {
      await sandboxApp?.close();
    });

    it('boots, and / says how to build the console', async () => {
      const root = await send(sandboxBase, '/');
      expect(root.status).toBe(200);
      expect(root.headers.get('content-type')).toMatch(/^text\/html/);
      expect(root.text).toContain('npm run build');
      expect(root.text).not.toContain(missing);
      expect((await send(sandboxBase, '/api/nope')).headers.get('content-type')).toMatch(/json/);
    });

    it('sets the cookie without Secure (plain http on localhost)', async () => {
      const { setCookie } = await signIn(sandboxBase, VIEWER);
      expect(setCookie).toMatch(/; HttpOnly/);
      expect(setCookie).toMatch(/; SameSite=Strict/);
      expect(setCookie).not.toMatch(/Secure/);
    });
  });
});
