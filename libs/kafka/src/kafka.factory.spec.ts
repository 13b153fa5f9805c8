import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaFromConfig, KafkaClientConfigError } from './kafka.factory';

const config = {
  KAFKA_BROKERS: ['127.0.0.1:9092'],
  KAFKA_CONNECTION_TIMEOUT_MS: 3000,
  KAFKA_SSL: false,
};

describe('createKafkaFromConfig', () => {
  it('names the variable and the path when the CA file cannot be read', () => {
    expect(() =>
      createKafkaFromConfig({ ...config, KAFKA_SSL_CA_FILE: '/nonexistent/ca.crt' }, { clientId: 't' }),
    ).toThrow(/KAFKA_SSL_CA_FILE: cannot read the CA certificate at \/nonexistent\/ca.crt: ENOENT/);
  });

  it('refuses a CA file that holds no PEM certificate', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.crt');
    writeFileSync(file, 'not a certificate');
    expect(() => createKafkaFromConfig({ ...config, KAFKA_SSL_CA_FILE: file }, { clientId: 't' })).toThrow(
      KafkaClientConfigError,
    );
  });
});
