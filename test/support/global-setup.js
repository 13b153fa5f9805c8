// Integration tests need a real Kafka broker and a real Postgres. When KAFKA_BROKERS is unset we
// start the local broker (scripts/infra.js, idempotent) and point the tests at it.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const started = Date.now();
  if (!process.env.KAFKA_BROKERS) {
    execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'infra.js'), 'up'], {
      stdio: 'inherit',
      env: process.env,
    });
    process.env.KAFKA_BROKERS = `127.0.0.1:${process.env.KAFKA_PORT || 9092}`;
    process.env.TEST_STARTED_BROKER = '1';
  }
  process.env.DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  process.stdout.write(
    `[global-setup] broker ${process.env.KAFKA_BROKERS}, ready in ${Date.now() - started} ms\n`,
  );
};
