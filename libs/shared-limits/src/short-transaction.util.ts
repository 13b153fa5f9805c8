import { DataSource } from 'typeorm';

export type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/** The database did not answer in time (or at all): the caller treats it as unreachable. */
export class SharedStateUnavailableError extends Error {
  override readonly name = 'SharedStateUnavailableError';
}

/**
 * Runs `fn` in a short transaction serialised per `lockName` (a transaction-level advisory lock, the
 * lock id hashed from the schema and the name so isolated schemas never wait on each other). Each
 * statement and the lock wait are bounded by `timeoutMs`, and so is the whole: past it the caller gets
 * `SharedStateUnavailableError` even if the database never answers (the transaction, if it ever ends,
 * is then ignored).
 */
export async function inShortTransaction<T>(
  ds: DataSource,
  lockName: string,
  timeoutMs: number,
  fn: (query: Query) => Promise<T>,
): Promise<T> {
  const work = (async () => {
    const runner = ds.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      try {
        // Raw: set_config: this transaction's lock and statement timeouts.
        await runner.query(
          `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $1, true)`,
          [String(Math.max(1, Math.floor(timeoutMs)))],
        );
        // Raw: a transaction-level advisory lock per budget key.
        await runner.query(
          `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || $1, 0))`,
          [lockName],
        );
        const result = await fn((sql, params) => runner.query(sql, params));
        await runner.commitTransaction();
        return result;
      } catch (err) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release().catch(() => undefined);
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SharedStateUnavailableError(`no answer from Postgres within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `json` columns come parsed from pg; be lenient if a driver hands a string. */
export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'string') return JSON.parse(value) as T;
  return value as T;
}
