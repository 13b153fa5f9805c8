// Applies pending database migrations under an advisory lock (safe when several replicas start).
// The only place the schema changes: DATABASE_MIGRATION_URL (a user with DDL rights) when set, else
// DATABASE_URL. Services and the other CLIs only check that the schema is current.
import { loadEnvFile } from '@libs/config';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';

async function main(): Promise<void> {
  await loadEnvFile();
  const url =
    process.env.DATABASE_MIGRATION_URL ||
    process.env.DATABASE_URL ||
    'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const schema = process.env.DATABASE_SCHEMA || 'public';
  const ds = await initializeDataSource(createDataSource({ url, schema }), url);
  try {
    const applied = await migrate(ds, schema);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database schema up to date');
  } finally {
    await ds.destroy();
  }
}

main().catch((err) => {
  console.error(`migrate failed: ${(err as Error).message}`);
  process.exit(1);
});
