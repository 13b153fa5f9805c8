// STAND-IN: replaced by the engine branch (minimal SQL so the worker, CLI and their tests run).
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { formatShanghai, parseShanghai } from '@libs/common';
import { queryRows } from '@libs/database';
import type { ReconcileRunView, ReconcileTrigger } from './reconcile-run.types';

interface RunRow {
  id: string;
  scheme_id: string;
  period_from: Date;
  period_to: Date;
  trigger: ReconcileTrigger;
  schedule_slot: string | null;
  requested_by: string;
  state: ReconcileRunView['state'];
  phase: ReconcileRunView['phase'];
  progress: ReconcileRunView['progress'];
  counts: ReconcileRunView['counts'];
  error: string | null;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export class ReconcileRunStore {
  constructor(private readonly ds: DataSource) {}

  async create(r: {
    schemeId: string;
    from: string;
    to: string;
    trigger: ReconcileTrigger;
    requestedBy: string;
    scheduleSlot?: string;
    owner?: string;
  }): Promise<string | undefined> {
    const from = parseShanghai(r.from);
    const to = parseShanghai(r.to);
    if (from === undefined || to === undefined) throw new Error(`bad period ${r.from} – ${r.to}`);
    const rows: Array<{ id: string }> = await this.ds.query(
      `INSERT INTO reconcile_runs (id, scheme_id, period_from, period_to, trigger, schedule_slot, requested_by,
         state, owner, lease_until, started_at, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::text IS NULL THEN 'queued' ELSE 'running' END, $8,
         CASE WHEN $8::text IS NULL THEN NULL ELSE now() + interval '60 seconds' END,
         CASE WHEN $8::text IS NULL THEN NULL ELSE now() END, CASE WHEN $8::text IS NULL THEN 0 ELSE 1 END)
       ON CONFLICT (scheme_id, schedule_slot) WHERE schedule_slot IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        randomUUID(),
        r.schemeId,
        new Date(from),
        new Date(to),
        r.trigger,
        r.scheduleSlot ?? null,
        r.requestedBy,
        r.owner ?? null,
      ],
    );
    return rows[0]?.id;
  }

  async claim(owner: string, leaseMs: number, schemeIds?: readonly string[]): Promise<string | undefined> {
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `UPDATE reconcile_runs SET state = 'running', owner = $1, lease_until = now() + $2 * interval '1 millisecond',
         attempts = attempts + 1, started_at = coalesce(started_at, now())
       WHERE id = (SELECT id FROM reconcile_runs
         WHERE (state = 'queued' OR (state = 'running' AND lease_until < now()))
           AND ($3::text[] IS NULL OR scheme_id = ANY($3))
         ORDER BY requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [owner, leaseMs, schemeIds ? [...schemeIds] : null],
    );
    return rows[0]?.id;
  }

  async renew(
    id: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    const rows = await queryRows<{ cancel_requested: boolean }>(
      this.ds,
      `UPDATE reconcile_runs SET lease_until = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND owner = $2 AND state = 'running' RETURNING cancel_requested`,
      [id, owner, leaseMs],
    );
    const row = rows[0];
    return { held: Boolean(row), cancelRequested: Boolean(row?.cancel_requested) };
  }

  async get(id: string): Promise<ReconcileRunView | undefined> {
    const rows: RunRow[] = await this.ds.query(`SELECT * FROM reconcile_runs WHERE id = $1`, [id]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      schemeId: r.scheme_id,
      periodFrom: formatShanghai(new Date(r.period_from).getTime()),
      periodTo: formatShanghai(new Date(r.period_to).getTime()),
      trigger: r.trigger,
      scheduleSlot: r.schedule_slot,
      requestedBy: r.requested_by,
      state: r.state,
      phase: r.phase,
      progress: r.progress ?? {},
      counts: r.counts,
      error: r.error,
      requestedAt: iso(r.requested_at)!,
      startedAt: iso(r.started_at),
      finishedAt: iso(r.finished_at),
    };
  }
}
