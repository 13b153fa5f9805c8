import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { KAFKA, READINESS, Readiness } from '@libs/runtime';
import { freePort, ManagedProcess } from '@tools/devstack';
import { TransformerModule } from '../../apps/transformer/src/app.module';
import { startServiceApp } from '../support/service-app';
import { createTestEnv, eventually, TestEnv } from '../support/test-env';

type Json = Record<string, unknown>;

describe('probes (terminus over kept connections) and request logs (nestjs-pino)', () => {
  let t: TestEnv;

  beforeAll(async () => {
    t = await createTestEnv('probes');
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  describe('a transformer in this process', () => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      ({ app, base } = await startServiceApp(() => TransformerModule.create(), {
        ...t.env,
        SCHEMES_DIR: 'schemes',
        KAFKA_GROUP_ID: `probes-${randomBytes(4).toString('hex')}`,
      }));
    });

    afterAll(async () => {
      await app?.close();
    });

    it('answers /ready from one Kafka admin connection kept across probes', async () => {
      const kafka = app.get<Kafka>(KAFKA);
      const admins = jest.spyOn(kafka, 'admin');
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${base}/ready`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({
          status: 'ready',
          service: 'transformer',
          checks: { kafka: 'ok', postgres: 'ok' },
          details: { kafka: { status: 'up' }, postgres: { status: 'up' } },
        });
      }
      // Created once, at the first probe, then reused (the old probe made one per call).
      expect(admins.mock.calls.length).toBeLessThanOrEqual(1);
      admins.mockRestore();
    });

    it('turns a failure the work reports into a named down check with its reason, and back', async () => {
      const readiness = app.get<Readiness>(READINESS);
      readiness.fail('wdt', 'WDT auth error (code 1060) on connection "default"');
      const down = await fetch(`${base}/ready`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        status: 'not_ready',
        checks: { kafka: 'ok', postgres: 'ok', wdt: 'WDT auth error (code 1060) on connection "default"' },
        details: { wdt: { status: 'down', message: expect.stringContaining('1060') } },
      });
      readiness.ok('wdt');
      expect((await fetch(`${base}/ready`)).status).toBe(200);
    });

    it('reports consumer progress in /health through a terminus indicator', async () => {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        consumers: [expect.objectContaining({ name: 'transformer', stalled: false })],
        details: { consumers: { status: 'up' } },
      });
    });
  });

  describe('an operator process', () => {
    const token = randomBytes(16).toString('hex');
    const cookieValue = `sid-${randomBytes(8).toString('hex')}`;
    const logFile = join(tmpdir(), `probes-operator-${randomBytes(4).toString('hex')}.log`);
    let operator: ManagedProcess;
    let base: string;

    const lines = (): Json[] =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Json);
    const requestLine = (id: string) =>
      eventually(`the request line of ${id}`, async () =>
        lines().find((l) => (l.req as Json | undefined)?.id === id),
      );

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      operator = new ManagedProcess({
        name: 'operator',
        script: resolve('dist/apps/operator/src/main.js'),
        env: {
          ...t.env,
          SCHEMES_DIR: resolve('schemes'),
          HTTP_PORT: String(port),
          LOG_LEVEL: 'info',
          OPERATOR_TOKENS: `ada:admin:${token}`,
        },
        logFile,
        readyUrl: `${base}/health`,
      });
      operator.start();
      await operator.waitReady(60_000);
    });

    afterAll(async () => {
      await operator?.stop();
    });

    it('logs each API request once, with the caller’s request id echoed, and never its token or cookie', async () => {
      const res = await fetch(`${base}/api/schemes`, {
        headers: {
          authorization: `Bearer ${token}`,
          cookie: `wks_session=${cookieValue}`,
          'x-request-id': 'req-abc.123',
        },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('req-abc.123');
      const line = await requestLine('req-abc.123');
      expect(line).toMatchObject({
        service: 'operator',
        level: 30,
        msg: 'GET /api/schemes 200',
        req: { id: 'req-abc.123', method: 'GET', url: '/api/schemes' },
        res: { statusCode: 200 },
      });
      expect(typeof line.responseTime).toBe('number');
      const text = readFileSync(logFile, 'utf8');
      expect(text).not.toContain(token);
      expect(text).not.toContain(cookieValue);
    });

    it('gives a request without an id (or with an unusable one) a new UUID, and logs a refusal as a warning', async () => {
      const res = await fetch(`${base}/api/schemes`, { headers: { 'x-request-id': 'bad id {with} spaces' } });
      expect(res.status).toBe(401);
      const id = res.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await requestLine(id)).toMatchObject({ level: 40, res: { statusCode: 401 } });
    });

    it('does not log probes, and writes Nest’s own lines as JSON through the same logger', async () => {
      const probe = await fetch(`${base}/health`, { headers: { 'x-request-id': 'probe-1' } });
      expect(probe.headers.get('x-request-id')).toBe('probe-1');
      await requestLine('req-abc.123');
      expect(lines().some((l) => (l.req as Json | undefined)?.id === 'probe-1')).toBe(false);
      expect(lines()).toContainEqual(
        expect.objectContaining({ service: 'operator', context: 'NestApplication' }),
      );
    });
  });
});
