import { DataSource } from 'typeorm';
import { queryRows, RangeRequestEntity } from '@libs/database';

export type RangeStage = 'extract' | 'transform' | 'load';
export type RangeState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** A range request as a worker holds it. */
export interface ClaimedRangeRequest {
  id: string;
  kind: 'backfill' | 'replay';
  schemeId: string | null;
  stage: RangeStage;
  from: Date;
  to: Date;
  force: boolean;
  /** Where a previous holder got to (a backfill's next window start), when it lost its lease. */
  resumeFrom: string | null;
  progressDone: number;
  attempts: number;
  cancelRequested: boolean;
}

export interface RangeProgressUpdate {
  done: number;
  total: number | null;
  message?: string;
  resumeFrom?: string;
}

const CLAIMED = `id::text AS id, kind, scheme_id AS "schemeId", stage, range_from AS "from", range_to AS "to",
  force, resume_from AS "resumeFrom", progress_done AS "progressDone", attempts, cancel_requested AS "cancelRequested"`;

/**
 * The workers' side of `range_requests`: claim a queued row (or one whose holder's lease ran out)
 * with `FOR UPDATE SKIP LOCKED`, so one replica takes it; renew the lease while running; report
 * progress; finish. Every write after the claim names the owner, so a holder that lost its lease
 * cannot overwrite the new holder's row.
 */
export class RangeRequestStore {
  constructor(private readonly ds: DataSource) {}

  async claim(
    stage: RangeStage,
    owner: string,
    leaseMs: number,
    schemeIds?: readonly string[],
  ): Promise<ClaimedRangeRequest | undefined> {
    // Raw: a claim: one conditional UPDATE of a subquery's row with a lease on the database clock.
    const rows = await queryRows<ClaimedRangeRequest>(
      this.ds,

      `UPDATE range_requests r
          SET state = 'running', owner = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000),
              started_at = coalesce(r.started_at, now()), attempts = r.attempts + 1
        WHERE r.id = (
          SELECT id FROM range_requests
           WHERE stage = $1
             AND ($4::text[] IS NULL OR scheme_id = ANY($4::text[]))
             AND (state = 'queued' OR (state = 'running' AND lease_until < now()))
           ORDER BY requested_at
           FOR UPDATE SKIP LOCKED
           LIMIT 1)
        RETURNING ${CLAIMED}`,
      [stage, owner, leaseMs, schemeIds ? [...schemeIds] : null],
    );
    return rows[0] ?? (undefined as ClaimedRangeRequest | undefined);
  }

  /** Extends the lease; tells whether an operator asked to cancel and whether the row is still ours. */
  async renew(
    id: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    // Raw: lease renewal on the database clock, returning the cancel flag.
    const rows = await queryRows<{ cancel: boolean }>(
      this.ds,

      `UPDATE range_requests SET lease_until = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = $1 AND owner = $2 AND state = 'running'
        RETURNING cancel_requested AS cancel`,
      [id, owner, leaseMs],
    );
    return { held: rows.length > 0, cancelRequested: rows[0]?.cancel ?? false };
  }

  async progress(id: string, owner: string, p: RangeProgressUpdate): Promise<void> {
    await this.ds.getRepository(RangeRequestEntity).update(
      { id, owner, state: 'running' },
      {
        progressDone: p.done,
        progressTotal: p.total ?? null,
        ...(p.message != null ? { message: p.message } : {}),
        ...(p.resumeFrom != null ? { resumeFrom: p.resumeFrom } : {}),
      },
    );
  }

  async finish(
    id: string,
    owner: string,
    state: Extract<RangeState, 'done' | 'failed' | 'cancelled'>,
    message: string,
  ): Promise<void> {
    await this.ds
      .getRepository(RangeRequestEntity)
      .update(
        { id, owner, state: 'running' },
        { state, message: message.slice(0, 2000), finishedAt: () => 'now()', leaseUntil: null },
      );
  }
}

/**
 * A replay's slice of a topic: by message time; a range ending now or later ends at the topic's end
 * as it is when the replay starts (a timestamp past the last message would resolve to nothing).
 */
export function requestedRange(
  request: Pick<ClaimedRangeRequest, 'from' | 'to' | 'schemeId'>,
  now = Date.now(),
): { from: { timestamp: number }; to?: { timestamp: number }; schemeId: string | null } {
  return {
    from: { timestamp: request.from.getTime() },
    to: request.to.getTime() >= now ? undefined : { timestamp: request.to.getTime() },
    schemeId: request.schemeId,
  };
}
