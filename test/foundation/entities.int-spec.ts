import { ENTITIES } from '@libs/database';
import { createTestEnv, TestEnv } from '../support/test-env';

/** Postgres' udt_name for the entity column types the project uses. */
const UDT: Record<string, string> = {
  text: 'text',
  varchar: 'varchar',
  int: 'int4',
  integer: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  boolean: 'bool',
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  jsonb: 'jsonb',
  json: 'json',
  bytea: 'bytea',
  numeric: 'numeric',
  uuid: 'uuid',
  'double precision': 'float8',
  date: 'date',
};

interface DbColumn {
  table: string;
  column: string;
  udt: string;
  nullable: boolean;
}

/**
 * Every table the migrations make has a TypeORM entity, and every entity says what the table is:
 * the same columns, types, nullability and primary key (migrations stay the one source of DDL;
 * this keeps the entities honest).
 */
describe('TypeORM entities match the migrated schema (real Postgres)', () => {
  let t: TestEnv;
  let columns: DbColumn[];
  let keys: Map<string, string[]>;

  beforeAll(async () => {
    t = await createTestEnv('entities');
    columns = (
      (await t.ds.query(
        `SELECT table_name AS table, column_name AS column, udt_name AS udt, is_nullable = 'YES' AS nullable
           FROM information_schema.columns WHERE table_schema = $1 AND table_name <> 'typeorm_migrations'`,
        [t.schema],
      )) as DbColumn[]
    ).map((c) => ({ ...c, udt: c.udt.replace(/^_/, '') }));
    const pk = (await t.ds.query(
      `SELECT tc.table_name AS table, kcu.column_name AS column
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu
           ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
        WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY'`,
      [t.schema],
    )) as Array<{ table: string; column: string }>;
    keys = new Map();
    for (const k of pk) keys.set(k.table, [...(keys.get(k.table) ?? []), k.column].sort());
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  it('has an entity for every table and a table for every entity', () => {
    const tables = [...new Set(columns.map((c) => c.table))].sort();
    const entities = t.ds.entityMetadatas.map((m) => m.tableName).sort();
    expect(entities).toEqual(tables);
    expect(t.ds.entityMetadatas).toHaveLength(ENTITIES.length);
  });

  it('gives each entity the columns, types, nullability and primary key of its table', () => {
    const problems: string[] = [];
    for (const meta of t.ds.entityMetadatas) {
      const db = columns.filter((c) => c.table === meta.tableName);
      const mapped = meta.columns.map((c) => c.databaseName).sort();
      const actual = db.map((c) => c.column).sort();
      if (JSON.stringify(mapped) !== JSON.stringify(actual))
        problems.push(`${meta.tableName}: entity columns ${mapped.join(',')} ≠ table ${actual.join(',')}`);
      for (const col of meta.columns) {
        const d = db.find((c) => c.column === col.databaseName);
        if (!d) continue;
        const udt = UDT[String(col.type)];
        if (udt !== d.udt)
          problems.push(`${meta.tableName}.${d.column}: entity ${String(col.type)}, table ${d.udt}`);
        if (col.isNullable !== d.nullable)
          problems.push(
            `${meta.tableName}.${d.column}: entity nullable ${col.isNullable}, table ${d.nullable}`,
          );
      }
      const pk = meta.primaryColumns.map((c) => c.databaseName).sort();
      if (JSON.stringify(pk) !== JSON.stringify(keys.get(meta.tableName) ?? []))
        problems.push(
          `${meta.tableName}: entity key ${pk.join(',')} ≠ table key ${(keys.get(meta.tableName) ?? []).join(',')}`,
        );
    }
    expect(problems).toEqual([]);
  });
});
