import { CommanderError } from 'commander';
import { parseTailOptions } from './tail-options.util';

const quiet = { writeOut: () => undefined, writeErr: () => undefined };

describe('parseTailOptions', () => {
  it('reads the topic kind, group and flags, and the connection from the services’ variables', () => {
    const options = parseTailOptions(['--topic', 'audit', '--group', 'finance-bi', '--from-beginning'], {
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      KAFKA_SSL: 'true',
      TOPIC_AUDIT: 'acme.sync.audit.v1',
    });
    expect(options).toEqual({
      kind: 'audit',
      topic: 'acme.sync.audit.v1',
      groupId: 'finance-bi',
      fromBeginning: true,
      showRecord: false,
      brokers: ['k1:9092', 'k2:9092'],
      ssl: true,
      sasl: undefined,
      clientId: 'audit-tail.finance-bi',
    });
  });

  it('defaults the raw topic from the catalogue and lets --brokers win over KAFKA_BROKERS', () => {
    const options = parseTailOptions(['--topic', 'raw', '--group', 'g', '--brokers', 'b:9093'], {
      KAFKA_BROKERS: 'a:9092',
    });
    expect([options.topic, options.brokers, options.fromBeginning]).toEqual([
      'wdt.stockout-return.raw.v1',
      ['b:9093'],
      false,
    ]);
  });

  it("refuses the pipeline's own consumer groups and a missing group or topic", () => {
    const errors: string[] = [];
    const output = { writeErr: (s: string) => errors.push(s) };
    expect(() =>
      parseTailOptions(['--topic', 'audit', '--group', 'wdt-kingdee.audit-writer'], {}, output),
    ).toThrow(CommanderError);
    expect(errors.join('')).toMatch(/belong to the pipeline's services/);
    expect(() => parseTailOptions(['--topic', 'audit'], {}, quiet)).toThrow(/--group/);
    expect(() => parseTailOptions(['--topic', 'dlq', '--group', 'g'], {}, quiet)).toThrow(CommanderError);
  });

  it('configures SASL only completely, and rejects malformed brokers', () => {
    const args = ['--topic', 'raw', '--group', 'g'];
    const sasl = {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    };
    expect(parseTailOptions(args, sasl).sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'u',
      password: 'p',
    });
    expect(() => parseTailOptions(args, { ...sasl, KAFKA_SASL_PASSWORD: '' })).toThrow(/KAFKA_SASL_PASSWORD/);
    expect(() => parseTailOptions(args, { KAFKA_BROKERS: 'no-port' })).toThrow(/KAFKA_BROKERS must be/);
    expect(() => parseTailOptions([...args, '--brokers', 'x y:1'], {}, quiet)).toThrow(CommanderError);
  });
});
