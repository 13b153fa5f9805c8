import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { explainKafkaError, isUnknownTopicError, MissingTopicError } from './missing-topic.error';

// kafkajs builds these from its protocol error table: an Error carrying `type` and `code`.
const unknownTopic = () =>
  new KafkaJSProtocolError(
    Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: true,
    }),
  );

describe('missing topics', () => {
  it('recognises kafkajs unknown-topic errors, also wrapped by its retrier', () => {
    expect(isUnknownTopicError(unknownTopic())).toBe(true);
    expect(
      isUnknownTopicError(
        new KafkaJSNumberOfRetriesExceeded(unknownTopic(), { retryCount: 8, retryTime: 10000 }),
      ),
    ).toBe(true);
    expect(isUnknownTopicError(new Error('This server does not host this topic-partition'))).toBe(true);
    expect(isUnknownTopicError(new Error('Connection timeout'))).toBe(false);
    expect(isUnknownTopicError('not an error')).toBe(false);
  });

  it('names the topics and the fix, and leaves other errors alone', () => {
    const explained = explainKafkaError(unknownTopic(), ['a.raw', 'a.audit'], ['b1:9092']) as Error;
    expect(explained).toBeInstanceOf(MissingTopicError);
    expect(explained.message).toBe(
      'Kafka topics "a.raw", "a.audit" do not exist on b1:9092: create them with `npm run topics:provision` (with the same KAFKA_BROKERS and TOPIC_* settings as this process)',
    );
    expect(new MissingTopicError(['x']).message).toMatch(/^Kafka topic "x" does not exist: create it with/);
    const other = new Error('boom');
    expect(explainKafkaError(other, ['a.raw'])).toBe(other);
  });
});
