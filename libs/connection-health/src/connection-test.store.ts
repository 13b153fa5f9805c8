import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ConnectionTestEntity, queryRows } from '@libs/database';
import { ConnectionKind, ConnectionTestResult } from './connection-test.util';

export type ConnectionTestState = 'queued' | 'running' | 'done';

/** One requested test as the operator shows it. */
export interface ConnectionTestRow {
  id: string;
  kind: ConnectionKind;
  name: string;
  state: ConnectionTestState;
  requestedBy: string;
  requestedAt: Date;
  finishedAt: Date | null;
  /** Who answered (the extractor or loader instance). */
  testedBy: string | null;
  result: ConnectionTestResult | null;
}

const COLUMNS = `id::text AS id, kind, name, state, requested_by AS "requestedBy", requested_at AS "requestedAt",
  finished_at AS "finishedAt", owner AS "testedBy",
  CASE WHEN state = 'done' THEN jsonb_build_object('ok', ok, 'ms', ms) ||
    CASE WHEN error IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('errorKind', error_kind, 'error', error) END
  END AS result`;

/**
 * `connection_tests`: the operator (which holds no secrets) queues a test of a connection; a service
 * holding that kind's secrets (the extractor for WDT, the loader for Kingdee) claims it with
 * `FOR UPDATE SKIP LOCKED` and a lease, runs it and writes the answer back.
 */
export class ConnectionTestStore {
  constructor(private readonly ds: DataSource) {}

  async request(kind: ConnectionKind, name: string, requestedBy: string): Promise<ConnectionTestRow> {
    // Raw: INSERT … RETURNING the row in the API's shape (one round trip).
    const rows = await queryRows<ConnectionTestRow>(
      this.ds,
      `INSERT INTO connection_tests (id, kind, name, requested_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [randomUUID(), kind, name, requestedBy],
    );
    return rows[0]!;
  }

  async get(id: string): Promise<ConnectionTestRow | undefined> {
    return this.ds
      .getRepository(ConnectionTestEntity)
      .createQueryBuilder()
      .select(COLUMNS)
      .where('id = :id', { id })
      .getRawOne<ConnectionTestRow>();
  }

  /** The newest finished test of each connection. */
  async latest(): Promise<ConnectionTestRow[]> {
    // Raw: DISTINCT ON (kind, name): the newest finished test of each connection.
    return queryRows<ConnectionTestRow>(
      this.ds,
      `SELECT DISTINCT ON (kind, name) ${COLUMNS} FROM connection_tests
        WHERE state = 'done' ORDER BY kind, name, finished_at DESC`,
    );
  }

  /** Claims the oldest open test of `kind` on one of `names` (a lapsed lease is claimed again). */
  async claim(
    kind: ConnectionKind,
    names: readonly string[],
    owner: string,
    leaseMs: number,
  ): Promise<{ id: string; name: string } | undefined> {
    if (names.length === 0) return undefined;
    // Raw: a claim: one conditional UPDATE of a subquery's row with a lease on the database clock.
    const rows = await queryRows<{ id: string; name: string }>(
      this.ds,
      `UPDATE connection_tests SET state = 'running', owner = $3,
              lease_until = now() + make_interval(secs => $4::float8 / 1000)
        WHERE id = (
          SELECT id FROM connection_tests
           WHERE kind = $1 AND name = ANY($2::text[]) AND state <> 'done'
             AND (lease_until IS NULL OR lease_until < now())
             AND requested_at > now() - interval '10 minutes'
           ORDER BY requested_at
           FOR UPDATE SKIP LOCKED
           LIMIT 1)
        RETURNING id::text AS id, name`,
      [kind, [...names], owner, leaseMs],
    );
    return rows[0];
  }

  async answer(id: string, owner: string, result: ConnectionTestResult): Promise<void> {
    await this.ds.getRepository(ConnectionTestEntity).update(
      { id, owner, state: 'running' },
      {
        state: 'done',
        ok: result.ok,
        ms: Math.round(result.ms),
        errorKind: result.errorKind ?? null,
        error: result.error ?? null,
        leaseUntil: null,
        finishedAt: () => 'now()',
      },
    );
  }
}
