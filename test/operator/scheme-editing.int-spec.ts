import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OperatorAppModule } from '../../apps/operator/src/app.module';
import { createTestEnv, eventually, TestEnv } from '../support/test-env';

/**
 * Editing scheme files over HTTP (contract section 4): the real operator app, real Postgres, a
 * temporary SCHEMES_DIR holding a copy of the shipped scheme.
 */
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const SHIPPED = join(__dirname, '../../schemes', `${SCHEME}.yaml`);
const TOKEN = randomBytes(24).toString('hex');

describe('scheme editing over HTTP (real Postgres, temp SCHEMES_DIR)', () => {
  let t: TestEnv;
  let dir: string;
  let app: INestApplication;
  let base: string;
  let readOnlyApp: INestApplication;
  let readOnlyBase: string;

  const boot = async (extra: Record<string, string>) => {
    const a = await NestFactory.create(
      OperatorAppModule.create({
        ...t.env,
        OPERATOR_TOKENS: `alice:${TOKEN}`,
        SCHEMES_DIR: dir,
        LOG_LEVEL: 'silent',
        ...extra,
      }),
      { logger: false },
    );
    await a.listen(0, '127.0.0.1');
    return { a, url: `http://127.0.0.1:${(a.getHttpServer().address() as AddressInfo).port}` };
  };
  const call = (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
    at = base,
  ) =>
    fetch(`${at}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read loosely; their shapes are asserted
  const json = async <T = Record<string, any>>(res: Response, status: number): Promise<T> => {
    const body = (await res.json()) as T;
    expect([res.status, body]).toEqual([status, expect.anything()]);
    return body;
  };

  beforeAll(async () => {
    t = await createTestEnv('scheme-editing');
    dir = mkdtempSync(join(tmpdir(), 'schemes-'));
    copyFileSync(SHIPPED, join(dir, `${SCHEME}.yaml`));
    ({ a: app, url: base } = await boot({}));
    ({ a: readOnlyApp, url: readOnlyBase } = await boot({ SCHEMES_READ_ONLY: 'true' }));
  });

  afterAll(async () => {
    await readOnlyApp?.close();
    await app?.close();
    await t?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the file with its ETag, validates with paths, saves with If-Match and keeps the history', async () => {
    const original = readFileSync(join(dir, `${SCHEME}.yaml`), 'utf8');
    const res = await call(`/api/schemes/${SCHEME}/file`);
    const file = await json(res, 200);
    expect(res.headers.get('etag')).toBe(file.etag);
    expect(file).toMatchObject({ schemeId: SCHEME, yaml: original, writable: true });
    expect(file.scheme.id).toBe(SCHEME);

    // Validation: exactly scheme:check's findings, each with the path of its field.
    const broken = original.replace(/formId: PUR_MRB/, 'formId: 9bad');
    const checked = await json(
      await call('/api/schemes/validate', { method: 'POST', body: { yaml: broken } }),
      200,
    );
    expect(checked.valid).toBe(false);
    expect(checked.scheme).toBeNull();
    expect(checked.issues).toContainEqual(
      expect.objectContaining({
        path: ['target', 'formId'],
        message: expect.stringMatching(/Kingdee form id/),
      }),
    );
    expect(
      (await json(await call('/api/schemes/validate', { method: 'POST', body: { yaml: original } }), 200))
        .valid,
    ).toBe(true);

    const edited = original.replace(/^name: .*$/m, 'name: edited through the API');
    // No If-Match: 428. A wrong etag: 412. Invalid text: 400 with issues.
    await json(await call(`/api/schemes/${SCHEME}/file`, { method: 'PUT', body: { yaml: edited } }), 428);
    await json(
      await call(`/api/schemes/${SCHEME}/file`, {
        method: 'PUT',
        body: { yaml: edited },
        headers: { 'if-match': '"0000"' },
      }),
      412,
    );
    const invalid = await json(
      await call(`/api/schemes/${SCHEME}/file`, {
        method: 'PUT',
        body: { yaml: broken },
        headers: { 'if-match': file.etag },
      }),
      400,
    );
    expect(invalid.issues[0].path).toEqual(['target', 'formId']);

    const saved = await json(
      await call(`/api/schemes/${SCHEME}/file`, {
        method: 'PUT',
        body: { yaml: edited, comment: 'rename' },
        headers: { 'if-match': file.etag },
      }),
      200,
    );
    expect(saved).toMatchObject({ schemeId: SCHEME, revision: 1 });
    expect(readFileSync(join(dir, `${SCHEME}.yaml`), 'utf8')).toBe(edited);
    // Atomic write: no temp file left behind.
    expect(readdirSync(dir)).toEqual([`${SCHEME}.yaml`]);
    // The old etag is now stale: someone saving from the old version gets 412.
    await json(
      await call(`/api/schemes/${SCHEME}/file`, {
        method: 'PUT',
        body: { yaml: original },
        headers: { 'if-match': file.etag },
      }),
      412,
    );
    // /api/schemes shows the new name at once.
    const list = await json(await call('/api/schemes'), 200);
    expect(list.items.find((s: { id: string }) => s.id === SCHEME)).toMatchObject({
      name: 'edited through the API',
      fileError: null,
    });

    const history = await json(await call(`/api/schemes/${SCHEME}/revisions`), 200);
    expect(history.items.map((r: { revision: number; author: string }) => [r.revision, r.author])).toEqual([
      [1, 'alice'],
      [0, 'file'],
    ]);
    expect(history.items[0].comment).toBe('rename');
    expect(history.items[0].diff).toMatch(/^\+name: edited through the API$/m);

    // Rollback to revision 0 (the file before the first save) is a new revision.
    await json(await call(`/api/schemes/${SCHEME}/revisions/0/rollback`, { method: 'POST', body: {} }), 428);
    const rolled = await json(
      await call(`/api/schemes/${SCHEME}/revisions/0/rollback`, {
        method: 'POST',
        body: {},
        headers: { 'if-match': saved.etag },
      }),
      200,
    );
    expect(rolled.revision).toBe(2);
    expect(readFileSync(join(dir, `${SCHEME}.yaml`), 'utf8')).toBe(original);
    const actions = await t.ds.query(
      `SELECT action, target, outcome, token_name AS "by" FROM operator_actions WHERE action LIKE 'scheme.%' ORDER BY at, id`,
    );
    expect(actions).toContainEqual({
      action: 'scheme.save',
      target: SCHEME,
      outcome: 'saved revision 1',
      by: 'alice',
    });
    expect(actions).toContainEqual({
      action: 'scheme.rollback',
      target: SCHEME,
      outcome: 'saved revision 2',
      by: 'alice',
    });
    expect(actions).toContainEqual(
      expect.objectContaining({ action: 'scheme.save', outcome: 'refused (412)' }),
    );
  });

  it('refuses an idempotency key change while the scheme has bill claims (409)', async () => {
    const current = await json(await call(`/api/schemes/${SCHEME}/file`), 200);
    const key = current.scheme.target.idempotencyKey as { field: string; source: string };
    const changed = (current.yaml as string).replace(/idempotencyKey:[\s\S]*?source: .*\n/, (block) =>
      block.replace(/source: .*\n/, `source: "X${key.source.replace(/"/g, '')}"\n`),
    );
    expect(changed).not.toBe(current.yaml);
    await t.ds.query(
      `INSERT INTO bill_claims (scheme_id, bill_key, state, updated_at) VALUES ($1, 'CT-CLAIMED-1', 'loaded', now())`,
      [SCHEME],
    );
    const refused = await json(
      await call(`/api/schemes/${SCHEME}/file`, {
        method: 'PUT',
        body: { yaml: changed },
        headers: { 'if-match': current.etag },
      }),
      409,
    );
    expect(refused.message).toMatch(/idempotencyKey .* 1 bill claim/);
    expect(readFileSync(join(dir, `${SCHEME}.yaml`), 'utf8')).toBe(current.yaml);

    // The same change made by hand is refused by the watchers; saving the recorded key back over it
    // (the fix) is compared with the key the claims were made under, not with the refused file's.
    writeFileSync(join(dir, `${SCHEME}.yaml`), changed);
    const fileError = async () =>
      (
        (await (await call('/api/schemes')).json()) as {
          items: Array<{ id: string; fileError: string | null }>;
        }
      ).items.find((x) => x.id === SCHEME)?.fileError;
    expect(await fileError()).toMatch(/idempotencyKey .* 1 bill claim/);
    const handEdited = await json(await call(`/api/schemes/${SCHEME}/file`), 200);
    await json(
      await call(`/api/schemes/${SCHEME}/file`, {
        method: 'PUT',
        body: { yaml: current.yaml, comment: 'back to the key the bills were written under' },
        headers: { 'if-match': handEdited.etag },
      }),
      200,
    );
    expect(await fileError()).toBeNull();
    await t.ds.query(`DELETE FROM bill_claims WHERE scheme_id = $1`, [SCHEME]);
  });

  it('answers 409 download:true when the directory is read-only (SCHEMES_READ_ONLY)', async () => {
    const file = await json(await call(`/api/schemes/${SCHEME}/file`, {}, readOnlyBase), 200);
    expect(file.writable).toBe(false);
    const res = await json(
      await call(
        `/api/schemes/${SCHEME}/file`,
        { method: 'PUT', body: { yaml: `${file.yaml}\n# note\n` }, headers: { 'if-match': file.etag } },
        readOnlyBase,
      ),
      409,
    );
    expect(res.download).toBe(true);
  });

  it('creates a new scheme file, refuses an existing id, and shows an invalid hand edit as fileError', async () => {
    const original = readFileSync(join(dir, `${SCHEME}.yaml`), 'utf8');
    const other = original.replace(/^id: .*$/m, 'id: second-scheme');
    const created = await json(await call('/api/schemes', { method: 'POST', body: { yaml: other } }), 201);
    expect(created).toMatchObject({ schemeId: 'second-scheme', revision: 1 });
    expect(readFileSync(join(dir, 'second-scheme.yaml'), 'utf8')).toBe(other);
    await json(await call('/api/schemes', { method: 'POST', body: { yaml: other } }), 409);

    // A hand edit that does not validate: the last good version stays, the problem is shown.
    writeFileSync(join(dir, 'second-scheme.yaml'), other.replace(/^name: .*$/m, 'name: [unclosed'));
    const list = await eventually('fileError in /api/schemes', async () => {
      const body = (await (await call('/api/schemes')).json()) as {
        items: Array<{ id: string; fileError: string | null }>;
      };
      const row = body.items.find((s) => s.id === 'second-scheme');
      return row?.fileError ? body : undefined;
    });
    expect(list.items.find((s) => s.id === 'second-scheme')?.fileError).toMatch(/YAML/);
  });
});
