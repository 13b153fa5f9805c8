import { randomBytes } from 'node:crypto';
import { Controller, INestApplication, Injectable, Module, UseFilters } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Observable, throwError, timer } from 'rxjs';
import { map, mergeMap } from 'rxjs/operators';
import { AppLogger } from '@libs/common';
import {
  BatchConsumer,
  BatchContext,
  ConsumedMessage,
  KafkaBatchTransport,
  RethrowRpcErrors,
} from '@libs/kafka';
import { createTestEnv, eventually, TestEnv } from '../support/test-env';

/** What the handler does on each delivery, in order; records what the consumer committed meanwhile. */
@Injectable()
class Script {
  readonly calls: Array<{ values: string[]; signal: boolean; committedAtStart: string }> = [];
  committed: () => Promise<string> = async () => 'unknown';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

@Controller()
@UseFilters(RethrowRpcErrors)
class ScriptedController {
  constructor(private readonly script: Script) {}

  @EventPattern('rawStockout')
  async handle(@Payload() messages: ConsumedMessage[], @Ctx() ctx: BatchContext): Promise<unknown> {
    const committedAtStart = await this.script.committed();
    this.script.calls.push({
      values: messages.map((m) => m.value?.toString() ?? ''),
      signal: ctx.signal instanceof AbortSignal,
      committedAtStart,
    });
    switch (this.script.calls.length) {
      case 1:
        // Rejects after an await: the consumer must see the rejection, not a finished batch.
        await sleep(30);
        throw new Error('boom after an await');
      case 2:
        // An Observable that errors late: handleEvent would have returned before it did.
        return timer(50).pipe(mergeMap(() => throwError(() => new Error('late observable error'))));
      default:
        // An Observable that completes late: the batch commits only after it has.
        return timer(50).pipe(map(() => undefined)) as Observable<undefined>;
    }
  }
}

@Module({ controllers: [ScriptedController], providers: [Script] })
class ScriptedModule {}

describe('KafkaBatchTransport: @EventPattern handlers over the batch consumer (real broker)', () => {
  let t: TestEnv;
  let app: INestApplication;
  const groupId = `transport-${randomBytes(4).toString('hex')}`;
  const logged: string[] = [];
  const logger: AppLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj: unknown, msg?: string) => void logged.push(`${msg ?? ''} ${JSON.stringify(obj)}`),
    error: (obj: unknown, msg?: string) => void logged.push(`${msg ?? ''} ${JSON.stringify(obj)}`),
  } as unknown as AppLogger;

  beforeAll(async () => {
    t = await createTestEnv('transport', { partitions: 1 });
  });

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('leaves a batch uncommitted while its handler rejects or its Observable errors, and commits once it completes', async () => {
    app = await NestFactory.create(ScriptedModule, { logger: false });
    const script = app.get(Script);
    script.committed = async () => {
      const [topic] = await t.admin.fetchOffsets({ groupId, topics: [t.topics.rawStockout] });
      return topic.partitions[0].offset;
    };
    const transport = new KafkaBatchTransport();
    transport.consume(
      'rawStockout',
      new BatchConsumer(t.kafka, {
        groupId,
        topics: [t.topics.rawStockout],
        fromBeginning: true,
        sessionTimeoutMs: 10_000,
        maxAttempts: 1,
        logger,
        onFatal: (error) => void logged.push(`fatal: ${error.message}`),
        // Asked of every failure: records the error the consumer was handed.
        isTransient: (error) => {
          logged.push(`handed: ${(error as Error).message ?? JSON.stringify(error)}`);
          return false;
        },
      }),
    );
    app.connectMicroservice({ strategy: transport });
    await app.init();
    await app.startAllMicroservices();

    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({ topic: t.topics.rawStockout, messages: [{ key: 'k', value: 'order-1' }] });
    await producer.disconnect();

    await eventually('the third delivery and its commit', async () =>
      script.calls.length >= 3 && (await script.committed()) === '1' ? true : undefined,
    );
    // The same record each time, with the batch context (signal) as the second argument.
    expect(script.calls.map((c) => c.values)).toEqual([['order-1'], ['order-1'], ['order-1']]);
    expect(script.calls.every((c) => c.signal)).toBe(true);
    // Nothing was committed while the first two deliveries failed (-1: no committed offset).
    expect(script.calls.map((c) => c.committedAtStart)).toEqual(['-1', '-1', '-1']);
    // The consumer got the handlers' own errors, not Nest's "Internal server error".
    expect(logged).toContain('handed: boom after an await');
    expect(logged).toContain('handed: late observable error');
    expect(logged.join('\n')).not.toContain('Internal server error');
    expect(logged.join('\n')).not.toContain('fatal');
    expect(script.calls).toHaveLength(3);
  });

  it('refuses to start a consumer no handler takes, naming its role', async () => {
    const other = await NestFactory.create(ScriptedModule, { logger: false });
    const transport = new KafkaBatchTransport();
    transport.consume(
      'audit',
      new BatchConsumer(t.kafka, { groupId: `${groupId}-x`, topics: [t.topics.audit] }),
    );
    other.connectMicroservice({ strategy: transport });
    await other.init();
    await expect(other.startAllMicroservices()).rejects.toThrow(
      /no @EventPattern handler for the consumer\(s\) of audit/,
    );
    await other.close();
  });
});
