import { Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import { EventProducer, ProducerSendTimeoutError } from './event-producer';
import { createKafka } from './kafka.factory';

/** A kafkajs client whose producers are scripted fakes: unit tests of the replacement rule only. */
function fakeKafka(behaviours: Array<() => Promise<unknown>>): { kafka: Kafka; made: Producer[] } {
  const kafka = createKafka({ brokers: ['b1:9092', 'b2:9092'], clientId: 'unit' });
  const made: Producer[] = [];
  kafka.producer = (() => {
    const behave = behaviours[made.length] ?? (() => Promise.resolve([]));
    const producer = {
      connect: jest.fn(async () => undefined),
      disconnect: jest.fn(async () => undefined),
      sendBatch: jest.fn(behave),
      send: jest.fn(behave),
    } as unknown as Producer;
    made.push(producer);
    return producer;
  }) as Kafka['producer'];
  return { kafka, made };
}

const event = {
  topic: 't',
  key: 'k',
  value: { a: 1 },
  schema: z.object({ a: z.number() }),
  correlationId: 'k',
  eventType: 'x',
};

describe('EventProducer replacement', () => {
  it('times out a send that never finishes, naming the brokers, and replaces the producer', async () => {
    const { kafka, made } = fakeKafka([() => new Promise(() => undefined), () => Promise.resolve([])]);
    const producer = new EventProducer(kafka, 1_048_576, undefined, { sendTimeoutMs: 50 });
    await producer.connect();
    const failure = producer.publish([event]);
    await expect(failure).rejects.toBeInstanceOf(ProducerSendTimeoutError);
    await expect(failure).rejects.toThrow(/brokers b1:9092,b2:9092/);
    expect(producer.recreations).toBe(1);
    expect(made).toHaveLength(2);
    expect(made[0].disconnect).toHaveBeenCalled();
    expect(made[1].connect).toHaveBeenCalled();
    await producer.publish([event]);
    expect(made[1].sendBatch).toHaveBeenCalledTimes(1);
  });

  it('replaces the producer after OUT_OF_ORDER_SEQUENCE_NUMBER and keeps it after other errors', async () => {
    const oosn = Object.assign(new Error('out of order'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    const other = Object.assign(new Error('not leader'), { type: 'NOT_LEADER_FOR_PARTITION' });
    const { kafka, made } = fakeKafka([
      () =>
        Promise.reject(
          new (class extends Error {
            originalError = oosn;
          })('retries exceeded'),
        ),
      () => Promise.reject(other),
    ]);
    const producer = new EventProducer(kafka, 1_048_576);
    await producer.connect();
    await expect(producer.publish([event])).rejects.toThrow();
    expect(producer.recreations).toBe(1);
    await expect(producer.publish([event])).rejects.toThrow();
    expect(producer.recreations).toBe(1);
    expect(made).toHaveLength(2);
  });
});
