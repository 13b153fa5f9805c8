import { BatchRevokedError, isInfrastructureFailure } from './batch-consumer';

describe('isInfrastructureFailure: what CONSUMER_MAX_ATTEMPTS never dead-letters', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  const named = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error('kafka'), { name, ...extra });

  it('treats Kafka, Postgres connection and socket failures and our own stop as infrastructure', () => {
    expect(isInfrastructureFailure(named('KafkaJSConnectionError'))).toBe(true);
    expect(isInfrastructureFailure(named('KafkaJSProtocolError', { retriable: true }))).toBe(true);
    expect(isInfrastructureFailure(withCode('ECONNREFUSED'))).toBe(true);
    expect(isInfrastructureFailure(withCode('57P01'))).toBe(true); // admin shutdown
    expect(isInfrastructureFailure(withCode('08006'))).toBe(true); // connection failure
    expect(isInfrastructureFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isInfrastructureFailure(new BatchRevokedError('consumer stopping'))).toBe(true);
  });

  it("treats a message's own failures as dead-letterable", () => {
    expect(
      isInfrastructureFailure(withCode('22021', 'invalid byte sequence for encoding "UTF8": 0x00')),
    ).toBe(false);
    expect(isInfrastructureFailure(named('KafkaJSProtocolError', { retriable: false }))).toBe(false);
    expect(isInfrastructureFailure(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(isInfrastructureFailure('not an error')).toBe(false);
  });
});
