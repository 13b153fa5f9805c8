import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AppLogger } from '@libs/common';
import { CommonConfig } from '@libs/config';
import { idempotencyKeyRefusal, Scheme, SchemeFileProblem, SchemeWatcher } from '@libs/scheme';

/** service_status key of a scheme file's problem, as /api/schemes reads it (`fileError`). */
export const SCHEME_FILE_STATUS_PREFIX = 'scheme_file:';

/** Bill claims of a scheme (libs/loading): a changed idempotency key would no longer find their bills. */
export async function countBillClaims(ds: DataSource, schemeId: string): Promise<number> {
  const rows: Array<{ n: number }> = await ds.query(
    `SELECT count(*)::int AS n FROM bill_claims WHERE scheme_id = $1`,
    [schemeId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * The scheme watcher a service runs: polls SCHEMES_DIR every SCHEME_RELOAD_MS, refuses an
 * idempotency key change on a scheme with claims, and records each file's problem in service_status
 * (`scheme_file:<file>`, removed once the file is in use again) so operators see it in /api/schemes.
 * The first load happens here (an invalid file stops the boot, as before, unless `lenient`); call
 * `start()` to poll.
 */
export function createSchemeWatcher(deps: {
  config: Pick<CommonConfig, 'SCHEMES_DIR' | 'SCHEME_RELOAD_MS'>;
  ds: DataSource;
  logger: AppLogger;
  service: string;
  instance: string;
  /** A further veto of the service (the transformer: the mapping must compile). */
  accept?: (next: Scheme, previous: Scheme | undefined) => Promise<string | undefined> | string | undefined;
  /** No strict first load (the operator boots with invalid files and shows them): call `check()`. */
  lenient?: boolean;
}): SchemeWatcher {
  const { ds, service, instance } = deps;
  const watcher = new SchemeWatcher({
    dir: deps.config.SCHEMES_DIR,
    intervalMs: deps.config.SCHEME_RELOAD_MS,
    logger: deps.logger,
    accept: async (next, previous) => {
      const own = await deps.accept?.(next, previous);
      if (own) return own;
      if (!previous) return undefined;
      // Only a changed key costs a query.
      if (
        previous.target.idempotencyKey.field === next.target.idempotencyKey.field &&
        previous.target.idempotencyKey.source === next.target.idempotencyKey.source
      )
        return undefined;
      return idempotencyKeyRefusal(previous, next, await countBillClaims(ds, next.id));
    },
    onProblem: async (file, problem: SchemeFileProblem | null) => {
      const key = `${SCHEME_FILE_STATUS_PREFIX}${path.basename(file)}`;
      if (!problem) {
        await ds.query(`DELETE FROM service_status WHERE service = $1 AND instance = $2 AND key = $3`, [
          service,
          instance,
          key,
        ]);
        return;
      }
      await ds.query(
        `INSERT INTO service_status (service, instance, key, value, updated_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (service, instance, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [service, instance, key, JSON.stringify({ ...problem, since: new Date().toISOString() })],
      );
    },
  });
  if (!deps.lenient) watcher.load();
  return watcher;
}

/** Removes this instance's scheme file reports (at shutdown). */
export async function clearSchemeFileStatus(
  ds: DataSource,
  service: string,
  instance: string,
): Promise<void> {
  await ds
    .query(`DELETE FROM service_status WHERE service = $1 AND instance = $2 AND key LIKE 'scheme_file:%'`, [
      service,
      instance,
    ])
    .catch(() => undefined);
}
