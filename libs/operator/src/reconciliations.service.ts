import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  BadRequestException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { formatShanghai } from '@libs/common';
import { queryRows } from '@libs/database';
import {
  type Finding,
  type FindingCounts,
  type FindingKind,
  REPUSHABLE_KINDS,
  ReconcileRunStore,
  type StoredFinding,
  reconcileCsv,
  reconcileFileName,
  reconcileWorkbook,
} from '@libs/reconcile';
import { DATA_SOURCE } from '@libs/runtime';
import { piiTargetFields, unknownSchemeMessage } from '@libs/scheme';
import { maskDifferences } from './reconcile-pii.util';
import { OperatorActionsService } from './operator-actions.service';
import { SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { Page, toPage } from './paging.util';

export interface ReconcileRunRow {
  id: string;
  schemeId: string;
  periodFrom: string;
  periodTo: string;
  trigger: string;
  scheduleSlot: string | null;
  requestedBy: string;
  state: string;
  phase: string | null;
  progress: Record<string, unknown>;
  counts: FindingCounts | null;
  error: string | null;
  cancelRequested: boolean;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface FindingRowView {
  seq: number;
  kind: FindingKind;
  key: string;
  orderNo: string | null;
  cause: string | null;
  trailStatus: string | null;
  billNumbers: string[];
  bills: Array<{ fid: string; billNo: string; documentStatus: string }>;
  differences: Array<{ kind: string; field: string; expected: string | null; actual: string | null }>;
  detail: string | null;
  repushState: string | null;
  repushResult: string | null;
  repushRequestedBy: string | null;
  repushRequestedAt: Date | null;
  repushedAt: Date | null;
}

// Periods are stored as instants and shown as Shanghai wall clock, as the CLI and the request take them.
const RUN_COLUMNS = `id::text AS id, scheme_id AS "schemeId",
  to_char(period_from AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') AS "periodFrom",
  to_char(period_to AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') AS "periodTo",
  trigger, schedule_slot AS "scheduleSlot", requested_by AS "requestedBy", state, phase, progress, counts, error,
  cancel_requested AS "cancelRequested", requested_at AS "requestedAt", started_at AS "startedAt",
  finished_at AS "finishedAt"`;

/** Most findings one export holds (a month of a large shop that disagrees everywhere is still one file). */
export const RECONCILE_EXPORT_MAX = 200_000;

function findingView(r: Record<string, unknown>): FindingRowView {
  const d = r.detail as Finding;
  const bills =
    d.kind === 'duplicated_in_erp' || d.kind === 'extra_in_erp'
      ? d.bills
      : d.kind === 'differs' || d.kind === 'matched'
        ? [d.bill]
        : [];
  const detail =
    d.kind === 'trail_disagrees'
      ? d.detail
      : d.kind === 'missing_in_erp'
        ? d.trailReason
        : d.kind === 'extra_in_erp'
          ? d.sourceReason
          : null;
  return {
    seq: Number(r.seq),
    kind: r.kind as FindingKind,
    key: String(r.bill_key),
    orderNo: (r.order_no as string | null) ?? null,
    cause: (r.cause as string | null) ?? null,
    trailStatus: (r.trail_status as string | null) ?? null,
    billNumbers: (r.bill_numbers as string[]) ?? [],
    bills,
    differences: d.kind === 'differs' ? d.differences : [],
    detail: detail ?? null,
    repushState: (r.repush_state as string | null) ?? null,
    repushResult: (r.repush_result as string | null) ?? null,
    repushRequestedBy: (r.repush_requested_by as string | null) ?? null,
    repushRequestedAt: (r.repush_requested_at as Date | null) ?? null,
    repushedAt: (r.repushed_at as Date | null) ?? null,
  };
}

/**
 * The operator's side of reconciliation: queue runs, read them, export, and ask for re-pushes. The
 * reconciler does the work (it holds the WDT and Kingdee connections); this only reads and writes rows.
 */
@Injectable()
export class ReconciliationsService {
  private readonly runs: ReconcileRunStore;

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(SCHEME_CATALOG) private readonly catalog: SchemeCatalog,
    private readonly actions: OperatorActionsService,
  ) {
    this.runs = new ReconcileRunStore(ds);
  }

  /** Every known scheme (and any with runs) with its schedule, newest run and newest finished run. */
  async latestPerScheme() {
    const schemes = this.catalog.list();
    // Raw: DISTINCT ON (scheme_id): the newest run of each scheme.
    const latest: ReconcileRunRow[] = await this.ds.query(
      `SELECT DISTINCT ON (scheme_id) ${RUN_COLUMNS} FROM reconcile_runs ORDER BY scheme_id, requested_at DESC`,
    );
    // Raw: DISTINCT ON (scheme_id): the newest finished run of each scheme.
    const done: ReconcileRunRow[] = await this.ds.query(
      `SELECT DISTINCT ON (scheme_id) ${RUN_COLUMNS} FROM reconcile_runs WHERE state = 'done'
        ORDER BY scheme_id, finished_at DESC`,
    );
    const ids = [...new Set([...schemes.map((s) => s.id), ...latest.map((r) => r.schemeId)])].sort();
    return {
      items: ids.map((id) => {
        const scheme = schemes.find((s) => s.id === id);
        return {
          schemeId: id,
          schemeName: scheme?.name ?? null,
          schedule: scheme
            ? {
                enabled: scheme.enabled && scheme.reconcile.enabled,
                cron: scheme.reconcile.cron,
                days: scheme.reconcile.days,
                timezone: scheme.schedule.timezone,
              }
            : null,
          latest: latest.find((r) => r.schemeId === id) ?? null,
          lastDone: done.find((r) => r.schemeId === id) ?? null,
        };
      }),
    };
  }

  /** Target fields the run's scheme marks as personal data (none when the scheme is gone). */
  private piiFieldsOf(schemeId: string): ReadonlySet<string> {
    const scheme = this.catalog.list().find((s) => s.id === schemeId);
    return scheme ? piiTargetFields(scheme) : new Set();
  }

  async runsOf(schemeId: string, limit: number, offset: number): Promise<Page<ReconcileRunRow>> {
    // Raw: RUN_COLUMNS is the API's shape (jsonb and interval casts) shared with the run store.
    const rows: ReconcileRunRow[] = await this.ds.query(
      `SELECT ${RUN_COLUMNS} FROM reconcile_runs WHERE scheme_id = $1
        ORDER BY requested_at DESC, id LIMIT $2 OFFSET $3`,
      [schemeId, limit + 1, offset],
    );
    return toPage(rows, limit, offset);
  }

  async request(input: { schemeId: string; from: number; to: number }, by: string): Promise<ReconcileRunRow> {
    const known = this.catalog.list().map((s) => s.id);
    if (!known.includes(input.schemeId))
      throw new BadRequestException(`schemeId: ${unknownSchemeMessage(input.schemeId, known)}`);
    const from = formatShanghai(input.from);
    const to = formatShanghai(input.to);
    const id = await this.runs.create({
      schemeId: input.schemeId,
      from,
      to,
      trigger: 'api',
      requestedBy: by,
    });
    if (!id) throw new ConflictException('the run could not be queued');
    await this.actions.record({
      tokenName: by,
      action: 'reconcile',
      target: input.schemeId,
      params: { runId: id, from, to },
      outcome: 'queued',
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<ReconcileRunRow | undefined> {
    // Raw: RUN_COLUMNS is the API's shape shared with the run store.
    const rows: ReconcileRunRow[] = await this.ds.query(
      `SELECT ${RUN_COLUMNS} FROM reconcile_runs WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async getOrThrow(id: string): Promise<ReconcileRunRow> {
    const run = await this.get(id);
    if (!run) throw new NotFoundException(`no reconciliation run ${id}`);
    return run;
  }

  /** A queued run ends `cancelled` at once; a running one is asked to stop (its reconciler ends it). */
  async cancel(id: string, by: string): Promise<ReconcileRunRow> {
    const run = await this.getOrThrow(id);
    if (!['queued', 'running'].includes(run.state))
      throw new ConflictException(`reconciliation run ${id} is already ${run.state}`);
    // Raw: one conditional update (CASE per column) decides "cancelled" or "cancel requested" atomically.
    await this.ds.query(
      `UPDATE reconcile_runs
          SET cancel_requested = true,
              state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
              error = CASE WHEN state = 'queued' THEN 'cancelled by ' || $2 ELSE error END,
              finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END
        WHERE id = $1 AND state IN ('queued', 'running')`,
      [id, by],
    );
    await this.actions.record({
      tokenName: by,
      action: 'cancel-reconcile',
      target: id,
      params: { schemeId: run.schemeId },
      outcome: run.state === 'queued' ? 'cancelled' : 'cancel requested',
    });
    return (await this.get(id))!;
  }

  async findings(
    id: string,
    q: { kind?: string; q?: string; limit: number; offset: number },
  ): Promise<Page<FindingRowView> & { total: number }> {
    await this.getOrThrow(id);
    const where = [`run_id = $1`, `($2::text IS NULL OR kind = $2)`];
    where.push(
      `($3::text IS NULL OR strpos(bill_key, $3) > 0 OR strpos(coalesce(order_no, ''), $3) > 0
         OR EXISTS (SELECT 1 FROM unnest(bill_numbers) b WHERE strpos(b, $3) > 0))`,
    );
    const params = [id, q.kind ?? null, q.q ?? null];
    // Raw: findings filtered by kind and a key prefix built above, paged by seq.
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT * FROM reconcile_findings WHERE ${where.join(' AND ')}
        ORDER BY seq LIMIT $4 OFFSET $5`,
      [...params, q.limit + 1, q.offset],
    );
    // Raw: the count of the same filter as above.
    const [{ n }] = (await this.ds.query(
      `SELECT count(*)::int AS n FROM reconcile_findings WHERE ${where.join(' AND ')}`,
      params,
    )) as Array<{ n: number }>;
    const pii = this.piiFieldsOf((await this.get(id))!.schemeId);
    const items = rows
      .map(findingView)
      .map((f) => ({ ...f, differences: maskDifferences(f.differences, pii) }));
    return { ...toPage(items, q.limit, q.offset), total: n };
  }

  async exportFile(
    id: string,
    format: 'xlsx' | 'csv',
  ): Promise<{ name: string; contentType: string; body: Buffer; rows: number }> {
    const run = await this.runs.get(id);
    if (!run) throw new NotFoundException(`no reconciliation run ${id}`);
    const pii = this.piiFieldsOf(run.schemeId);
    const all: StoredFinding[] = await this.runs.findings(id);
    const findings = all
      .slice(0, RECONCILE_EXPORT_MAX)
      .map((f) =>
        f.detail.kind === 'differs'
          ? { ...f, detail: { ...f.detail, differences: maskDifferences(f.detail.differences, pii) } }
          : f,
      );
    const name = reconcileFileName(run, format);
    if (format === 'csv')
      return {
        name,
        contentType: 'text/csv; charset=utf-8',
        body: reconcileCsv(findings),
        rows: findings.length,
      };
    const body = Buffer.from(await reconcileWorkbook(run, findings).xlsx.writeBuffer());
    return {
      name,
      contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      body,
      rows: findings.length,
    };
  }

  /**
   * Marks findings for the reconciler's re-push. Only classes a re-push can fix, and only once at a
   * time: a finding already requested, running or done is left as it is (and said why).
   */
  async repush(
    id: string,
    body: { kinds?: FindingKind[]; keys?: string[] },
    by: string,
  ): Promise<{ requested: number; notRequested: Array<{ key: string; kind: string; reason: string }> }> {
    const run = await this.getOrThrow(id);
    if (run.state !== 'done')
      throw new ConflictException(`reconciliation run ${id} is ${run.state}, not done`);
    const kinds = body.kinds ?? [...REPUSHABLE_KINDS];
    const keys = body.keys ?? null;
    // Raw: a conditional bulk update (kind list or key list) returning the findings it marked.
    const requested = await queryRows<{ bill_key: string; kind: string }>(
      this.ds,
      `UPDATE reconcile_findings
          SET repush_state = 'requested', repush_requested_by = $4, repush_requested_at = now(),
              repush_result = NULL, repushed_at = NULL
        WHERE run_id = $1 AND kind = ANY($2::text[]) AND ($3::text[] IS NULL OR bill_key = ANY($3::text[]))
          AND (repush_state IS NULL OR repush_state IN ('refused', 'failed'))
       RETURNING bill_key, kind`,
      [id, kinds, keys, by],
    );
    // What was asked for and not requested: named keys of any class, else the asked classes.
    const candidates: Array<{ bill_key: string; kind: string; repush_state: string | null }> =
      // Raw: CASE between the kind list and the key list in one read.
      await this.ds.query(
        `SELECT bill_key, kind, repush_state FROM reconcile_findings
        WHERE run_id = $1 AND (CASE WHEN $3::text[] IS NULL THEN kind = ANY($2::text[]) ELSE bill_key = ANY($3::text[]) END)
        ORDER BY seq LIMIT 1000`,
        [id, kinds, keys],
      );
    const done = new Set(requested.map((r) => `${r.kind}\u0000${r.bill_key}`));
    const notRequested = candidates
      .filter((r) => !done.has(`${r.kind}\u0000${r.bill_key}`))
      .map((r) => ({
        key: r.bill_key,
        kind: r.kind,
        reason: !(REPUSHABLE_KINDS as readonly string[]).includes(r.kind)
          ? `${r.kind} needs a person: bills are never deleted or changed automatically`
          : !kinds.includes(r.kind as FindingKind)
            ? `${r.kind} was not asked for`
            : `its re-push is already ${r.repush_state}`,
      }));
    await this.actions.record({
      tokenName: by,
      action: 'reconcile-repush',
      target: id,
      params: { schemeId: run.schemeId, kinds, keys: keys?.length ?? 'all', requested: requested.length },
      outcome: requested.length > 0 ? 'requested' : 'nothing to re-push',
    });
    return { requested: requested.length, notRequested };
  }
}
