import { DataSource } from 'typeorm';
import { AuditHistoryEntity } from './entities/audit-history.entity';
import { AuditOrderEntity } from './entities/audit-order.entity';
import { BillClaimEntity } from './entities/bill-claim.entity';
import { DeadLetterPayloadEntity } from './entities/dead-letter-payload.entity';
import { DeadLetterEntity } from './entities/dead-letter.entity';
import { StockoutFingerprintEntity } from './entities/stockout-fingerprint.entity';
import { SyncCursorEntity } from './entities/sync-cursor.entity';
import { ServiceStatusEntity } from './entities/service-status.entity';
import { AuditAttemptEntity } from './entities/audit-attempt.entity';
import { BaseDataCheckRequestEntity } from './entities/base-data-check-request.entity';
import { BaseDataWaitEntity } from './entities/base-data-wait.entity';
import { BillIdentityEntity } from './entities/bill-identity.entity';
import { ConnectionTestEntity } from './entities/connection-test.entity';
import { KingdeeSlotHolderEntity } from './entities/kingdee-slot-holder.entity';
import { KingdeeSlotEntity } from './entities/kingdee-slot.entity';
import { OperatorActionEntity } from './entities/operator-action.entity';
import { OperatorSessionEntity } from './entities/operator-session.entity';
import { ParkedMessageEntity } from './entities/parked-message.entity';
import { PreviewRequestEntity } from './entities/preview-request.entity';
import { RangeRequestEntity } from './entities/range-request.entity';
import { ReconcileFindingEntity } from './entities/reconcile-finding.entity';
import { ReconcileRunEntity } from './entities/reconcile-run.entity';
import { ReconcileStagingEntity } from './entities/reconcile-staging.entity';
import { ResyncRequestEntity } from './entities/resync-request.entity';
import { SchemeKeyEntity } from './entities/scheme-key.entity';
import { SchemeRevisionEntity } from './entities/scheme-revision.entity';
import { SchemeStopEntity } from './entities/scheme-stop.entity';
import { SourceVersionEntity } from './entities/source-version.entity';
import { WdtBudgetCallEntity } from './entities/wdt-budget-call.entity';
import { WdtBudgetDemandEntity } from './entities/wdt-budget-demand.entity';
import { WdtBudgetProcessEntity } from './entities/wdt-budget-process.entity';
import { InitialSchema1764300000000 } from './migrations/1764300000000-initial-schema';
import { ServiceStatus1764300100000 } from './migrations/1764300100000-service-status';
import { Operator1764300200000 } from './migrations/1764300200000-operator';
import { WriteProtocol1764300300000 } from './migrations/1764300300000-write-protocol';
import { AuditTrail1764300400000 } from './migrations/1764300400000-audit-trail';
import { BaseData1764300500000 } from './migrations/1764300500000-base-data';
import { OperatorSessions1764300600000 } from './migrations/1764300600000-operator-sessions';
import { OrderSnapshots1764300700000 } from './migrations/1764300700000-order-snapshots';
import { WorkRequests1764300800000 } from './migrations/1764300800000-work-requests';
import { SchemeRevisions1764300900000 } from './migrations/1764300900000-scheme-revisions';
import { SchemeKeys1764301050000 } from './migrations/1764301050000-scheme-keys';
import { Reconciliation1764301100000 } from './migrations/1764301100000-reconciliation';
import { SharedLimits1764301200000 } from './migrations/1764301200000-shared-limits';
import { BillIdentities1764301300000 } from './migrations/1764301300000-bill-identities';
import { ConnectionTests1764301400000 } from './migrations/1764301400000-connection-tests';

export const ENTITIES = [
  AuditOrderEntity,
  AuditHistoryEntity,
  DeadLetterEntity,
  DeadLetterPayloadEntity,
  SyncCursorEntity,
  StockoutFingerprintEntity,
  BillClaimEntity,
  ServiceStatusEntity,
  AuditAttemptEntity,
  BaseDataCheckRequestEntity,
  BaseDataWaitEntity,
  BillIdentityEntity,
  ConnectionTestEntity,
  KingdeeSlotHolderEntity,
  KingdeeSlotEntity,
  OperatorActionEntity,
  OperatorSessionEntity,
  ParkedMessageEntity,
  PreviewRequestEntity,
  RangeRequestEntity,
  ReconcileFindingEntity,
  ReconcileRunEntity,
  ReconcileStagingEntity,
  ResyncRequestEntity,
  SchemeKeyEntity,
  SchemeRevisionEntity,
  SchemeStopEntity,
  SourceVersionEntity,
  WdtBudgetCallEntity,
  WdtBudgetDemandEntity,
  WdtBudgetProcessEntity,
];
export const MIGRATIONS = [
  InitialSchema1764300000000,
  ServiceStatus1764300100000,
  Operator1764300200000,
  WriteProtocol1764300300000,
  AuditTrail1764300400000,
  BaseData1764300500000,
  OperatorSessions1764300600000,
  OrderSnapshots1764300700000,
  WorkRequests1764300800000,
  SchemeRevisions1764300900000,
  SchemeKeys1764301050000,
  Reconciliation1764301100000,
  SharedLimits1764301200000,
  BillIdentities1764301300000,
  ConnectionTests1764301400000,
];

export interface DatabaseOptions {
  url: string;
  /** Postgres schema; tests use a throw-away one each so runs never collide. */
  schema?: string;
  poolSize?: number;
  connectTimeoutMs?: number;
}

/** The one DataSource definition, shared by the services and the migration CLI. */
export function createDataSource(options: DatabaseOptions): DataSource {
  const schema = options.schema ?? 'public';
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    connectTimeoutMS: options.connectTimeoutMs ?? 5000,
    // Unqualified SQL (migrations, raw queries) lands in the configured schema.
    extra: { options: `-c search_path=${schema}` },
  });
}

export class DatabaseUnreachableError extends Error {
  override readonly name = 'DatabaseUnreachableError';
}

/** Connects, naming the host on failure (never the password). */
export async function initializeDataSource(ds: DataSource, url: string): Promise<DataSource> {
  try {
    return await ds.initialize();
  } catch (err) {
    let host = '(unparseable DATABASE_URL)';
    try {
      const u = new URL(url);
      host = `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      /* keep the placeholder */
    }
    throw new DatabaseUnreachableError(`Postgres unreachable at ${host}: ${(err as Error).message}`);
  }
}

/**
 * Runs pending migrations under a Postgres advisory lock, so several replicas starting at once
 * apply each migration exactly once (the others wait, then find nothing to do).
 */
export async function migrate(ds: DataSource, schema = 'public'): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    // Raw: an advisory lock serialising schema creation across processes.
    await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [`wdt-kingdee-sync:migrations:${schema}`]);
    // Raw: DDL (CREATE SCHEMA), outside what an entity describes.
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner
      // Raw: releases the advisory lock taken above.
      .query(`SELECT pg_advisory_unlock(hashtext($1))`, [`wdt-kingdee-sync:migrations:${schema}`])
      .catch(() => undefined);
    await runner.release();
  }
}

export class SchemaBehindError extends Error {
  override readonly name = 'SchemaBehindError';
}

/** Migrations of this version not yet applied to `schema` (none applied when the table is absent). */
export async function pendingMigrations(ds: DataSource, schema = 'public'): Promise<string[]> {
  const table = `"${schema.replace(/"/g, '""')}".typeorm_migrations`;
  // Raw: to_regclass: whether the migrations table exists yet (catalog lookup).
  const [{ present }] = (await ds.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table])) as Array<{
    present: boolean;
  }>;
  const applied = new Set(
    present
      ? // Raw: the migrations table is TypeORM's own, with a configurable name.
        ((await ds.query(`SELECT name FROM ${table}`)) as Array<{ name: string }>).map((r) => r.name)
      : [],
  );
  return ds.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
}

/**
 * Services never change the schema (their database user needs no DDL rights): they stop at boot when
 * the migration Job has not brought the schema up to their version.
 */
export async function assertSchemaCurrent(ds: DataSource, schema = 'public'): Promise<void> {
  const pending = await pendingMigrations(ds, schema);
  if (pending.length > 0)
    throw new SchemaBehindError(
      `database schema "${schema}" is behind this version: ${pending.length} migration(s) not applied (${pending.join(', ')}); run \`npm run db:migrate\` first (Kubernetes: the setup Job; compose: the migrate service)`,
    );
}

/**
 * Rows of a statement, whatever its command: TypeORM answers UPDATE and DELETE (with RETURNING) with
 * `[rows, affectedCount]` but SELECT and INSERT with the rows alone.
 */
export async function queryRows<T>(ds: DataSource, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await ds.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  )
    return result[0] as T[];
  return result as T[];
}
