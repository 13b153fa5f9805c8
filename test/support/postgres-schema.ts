import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';

/**
 * A throw-away Postgres schema, migrated like production, for tests that need the database but no
 * Kafka (`createTestEnv` provisions topics too). `connect()` opens another DataSource on the same
 * schema: a separate "process" as far as pools and connections go.
 */
export interface TestSchema {
  url: string;
  schema: string;
  /** The DataSource that created and migrated the schema. */
  ds: DataSource;
  connect(poolSize?: number): Promise<DataSource>;
  cleanup(): Promise<void>;
}

export async function createTestSchema(label: string): Promise<TestSchema> {
  const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const schema = `t_${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const opened: DataSource[] = [];
  const connect = async (poolSize = 2) => {
    const ds = await initializeDataSource(createDataSource({ url, schema, poolSize }), url);
    opened.push(ds);
    return ds;
  };
  const ds = await connect(2);
  await migrate(ds, schema);
  return {
    url,
    schema,
    ds,
    connect,
    async cleanup() {
      await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await Promise.all(opened.map((d) => (d.isInitialized ? d.destroy() : undefined)));
    },
  };
}
