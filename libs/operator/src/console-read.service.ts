import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull, Not } from 'typeorm';
import { Clock } from '@libs/common';
import { AuditAttemptEntity, AuditHistoryEntity, SourceVersionEntity } from '@libs/database';
import { DATA_SOURCE } from '@libs/runtime';
import { formatSourceVersion } from '@libs/transform';
import { AuditOrdersFilter, AuditQueryService } from './audit-query.service';
import { OVERVIEW_BUCKETS, SCHEME_STATES } from './console-read.schema';
import { diffDocuments, FieldChange } from './document-diff.util';
import { FAILURE_STATUSES, FailureGroup, FailureInput, groupFailures, Lang } from './failure-groups.util';
import { OPERATOR_CLOCK } from './operator.tokens';
import { maskPii } from './pii-mask.util';
import { SchemeStatusService } from './scheme-status.service';

type SchemeState = (typeof SCHEME_STATES)[number];
type Bucket = keyof typeof OVERVIEW_BUCKETS;

/** Most buckets one overview answers (a day of minutes, two months of hours). */
const MAX_BUCKETS = 1500;
/** Orders read for grouping failures: the newest ones, enough for any page that shows them. */
const MAX_FAILURE_ROWS = 20_000;

/** Where each pipeline stage's consumer group reports its lag (service_status key `consumer_lag`). */
const LAG_SERVICES: Array<{ stage: 'transform' | 'load' | 'audit'; service: string }> = [
  { stage: 'transform', service: 'transformer' },
  { stage: 'load', service: 'loader' },
  { stage: 'audit', service: 'audit-writer' },
];

/** A scheme row of /api/schemes, as far as its state is derived from it. */
interface SchemeItem {
  id: string;
  name: string;
  enabled: boolean;
  paused: boolean;
  stopped: unknown;
  lastError: string | null;
  extractor: { role: string } | null;
  circuit: string;
  cursor: { value: string; ageSeconds: number | null } | null;
  lagSeconds: number | null;
  counts: Record<string, number>;
}

/** The one state the console shows for a scheme, the most pressing first. */
export function schemeState(
  s: Pick<SchemeItem, 'enabled' | 'paused' | 'stopped' | 'lastError' | 'extractor' | 'circuit'>,
): SchemeState {
  if (!s.enabled) return 'disabled';
  if (s.stopped) return 'stopped';
  if (s.paused) return 'paused';
  if (s.circuit === 'open') return 'circuit_open';
  if (s.lastError) return 'error';
  // Replicas report themselves; only standbys means no replica polls this scheme now.
  if (s.extractor?.role === 'standby') return 'standby';
  return 'running';
}

export interface OrderExtras {
  versions: Array<{ sourceVersion: string; firstSeenAt: Date; record: unknown; document: unknown }>;
  lastReply: { operation: string; outcome: string; at: Date; reply: unknown } | null;
  change?: { loadedVersion: string | null; newVersion: string | null; fields: FieldChange[] } | null;
}

/**
 * Read models of the console: the overview (scheme states, series and latency from the audit
 * history, backlog per stage), failures grouped by cause, and an order's versions with what was
 * mapped from each. Scheme state and order rows come from the services /api/schemes and
 * /api/audit use.
 */
@Injectable()
export class ConsoleReadService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly schemes: SchemeStatusService,
    private readonly audit: AuditQueryService,
    @Inject(OPERATOR_CLOCK) private readonly clock: Clock,
  ) {}

  async overview(q: { from?: string; to?: string; schemeId?: string; bucket: Bucket }, lang: Lang) {
    const step = OVERVIEW_BUCKETS[q.bucket];
    const to = q.to ? new Date(q.to) : new Date(this.clock.now());
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 3600_000);
    // Buckets start on whole minutes/hours (epoch-aligned; Shanghai has no half-hour offset).
    const first = Math.floor(from.getTime() / 1000 / step) * step * 1000;
    const count = Math.ceil((to.getTime() - first) / 1000 / step);
    if (count > MAX_BUCKETS)
      throw new BadRequestException(
        `bucket: ${count} buckets of ${q.bucket} between from and to; at most ${MAX_BUCKETS} (choose a wider bucket)`,
      );
    const list = (await this.schemes.list({ limit: 1000, offset: 0 })).items as unknown as SchemeItem[];
    const schemes = list
      .filter((s) => !q.schemeId || s.id === q.schemeId)
      .map((s) => ({
        id: s.id,
        name: s.name,
        status: schemeState(s),
        lastError: s.lastError,
        cursor: s.cursor ? { value: s.cursor.value, ageSeconds: s.cursor.ageSeconds } : null,
        lagSeconds: s.lagSeconds,
        counts: s.counts,
      }));
    const window = [from.toISOString(), to.toISOString(), `${step} seconds`, new Date(first).toISOString()];
    const scheme = q.schemeId ?? null;
    // Raw: date_bin buckets and count(DISTINCT …) for the overview chart.
    const seriesRows: Array<{ at: Date; status: string; n: number }> = await this.ds.query(
      `SELECT date_bin($3::interval, occurred_at, $4::timestamptz) AS at, status,
              count(DISTINCT (scheme_id, source_key))::int AS n
         FROM audit_history
        WHERE occurred_at >= $1 AND occurred_at < $2 AND ($5::text IS NULL OR scheme_id = $5)
          AND status IN ('loaded', 'failed', 'skipped', 'dead_lettered')
        GROUP BY 1, 2`,
      [...window, scheme],
    );
    const latencyRows: Array<{ at: Date; p50: number; p90: number; p99: number; n: number }> =
      // Raw: a CTE of latencies per date_bin bucket with percentiles.
      await this.ds.query(
        `WITH l AS (
           SELECT date_bin($3::interval, occurred_at, $4::timestamptz) AS at,
                  extract(epoch FROM occurred_at - (split_part(source_version, '|', 1)::timestamp
                    AT TIME ZONE 'Asia/Shanghai')) * 1000 AS ms
             FROM audit_history
            WHERE occurred_at >= $1 AND occurred_at < $2 AND ($5::text IS NULL OR scheme_id = $5)
              AND status = 'loaded'
              AND source_version ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}[|]')
         SELECT at, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*)::int AS n
           FROM l GROUP BY at ORDER BY at`,
        [...window, scheme],
      );
    const buckets = new Map<
      number,
      { loaded: number; failed: number; skipped: number; deadLettered: number }
    >();
    for (let i = 0; i < count; i++)
      buckets.set(first + i * step * 1000, { loaded: 0, failed: 0, skipped: 0, deadLettered: 0 });
    for (const r of seriesRows) {
      const b = buckets.get(new Date(r.at).getTime());
      if (!b) continue;
      if (r.status === 'dead_lettered') b.deadLettered = r.n;
      else b[r.status as 'loaded' | 'failed' | 'skipped'] = r.n;
    }
    const ms = (v: number | null) => (v === null ? null : Math.round(Number(v)));
    return {
      from,
      to,
      bucket: q.bucket,
      schemes,
      series: [...buckets].map(([at, b]) => ({ at: new Date(at), ...b })),
      latency: latencyRows.map((r) => ({
        at: new Date(r.at),
        p50Ms: ms(r.p50),
        p90Ms: ms(r.p90),
        p99Ms: ms(r.p99),
        count: r.n,
      })),
      backlog: await this.backlog(q.schemeId),
      failureGroups: await this.failureGroups({ schemeId: q.schemeId }, lang),
    };
  }

  /**
   * Backlog per stage: the extractor's is how far its cursor is behind now (seconds, the oldest of
   * the schemes); the others are their consumer groups' lag in messages, as each service last
   * reported it (every CONSUMER_LAG_INTERVAL_MS); null when nothing reported.
   */
  private async backlog(schemeId?: string) {
    // Raw: the cursor's age computed on the database clock in Shanghai time.
    const cursors: Array<{ ageSeconds: number | null; updatedAt: Date | null }> = await this.ds.query(
      `SELECT extract(epoch FROM now() - (cursor_value::timestamp AT TIME ZONE 'Asia/Shanghai'))::float8 AS "ageSeconds",
              updated_at AS "updatedAt"
         FROM sync_cursors
        WHERE cursor_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'
          AND ($1::text IS NULL OR scheme_id = $1)`,
      [schemeId ?? null],
    );
    const extract = {
      stage: 'extract' as const,
      lag: cursors.length
        ? Math.max(...cursors.map((c) => Math.round(Number(c.ageSeconds) * 10) / 10))
        : null,
      unit: 'seconds' as const,
      updatedAt: cursors.length
        ? new Date(Math.max(...cursors.map((c) => (c.updatedAt ? new Date(c.updatedAt).getTime() : 0))))
        : null,
    };
    // Raw: DISTINCT ON (service): the newest lag row of each consumer.
    const lags: Array<{ service: string; lag: number; updatedAt: Date }> = await this.ds.query(
      `SELECT DISTINCT ON (service) service, (value->>'lag')::float8 AS lag, updated_at AS "updatedAt"
         FROM service_status WHERE key = 'consumer_lag' AND service = ANY($1)
        ORDER BY service, updated_at DESC`,
      [LAG_SERVICES.map((s) => s.service)],
    );
    const byService = new Map(lags.map((l) => [l.service, l]));
    return [
      extract,
      ...LAG_SERVICES.map(({ stage, service }) => {
        const l = byService.get(service);
        return {
          stage,
          lag: l ? Number(l.lag) : null,
          unit: 'messages' as const,
          updatedAt: l?.updatedAt ?? null,
        };
      }),
    ];
  }

  /** Orders needing a person, grouped by cause (see groupFailures). */
  async failureGroups(q: { schemeId?: string; status?: string }, lang: Lang): Promise<FailureGroup[]> {
    const rows: Array<Omit<FailureInput, 'waits'> & { waits: FailureInput['waits'] | null }> =
      // Raw: a LATERAL json_agg of each order's base-data waits.
      await this.ds.query(
        `SELECT o.scheme_id AS "schemeId", o.source_key AS "sourceKey", o.status, o.reason,
                o.error_class AS "errorClass", o.error_field AS "errorField", o.error_message AS "errorMessage",
                o.last_occurred_at AS "occurredAt", w.waits
           FROM audit_orders o
           LEFT JOIN LATERAL (
             SELECT json_agg(json_build_object('noun', noun, 'field', field, 'code', code, 'org', org,
                    'problem', problem) ORDER BY field, code) AS waits
               FROM base_data_waits b
              WHERE b.scheme_id = o.scheme_id AND b.source_key = o.source_key) w
             ON o.status = 'waiting_base_data'
          WHERE o.status = ANY($1) AND ($2::text IS NULL OR o.scheme_id = $2)
          ORDER BY o.last_occurred_at DESC
          LIMIT ${MAX_FAILURE_ROWS}`,
        [q.status ? [q.status] : [...FAILURE_STATUSES], q.schemeId ?? null],
      );
    return groupFailures(
      rows.map((r) => ({ ...r, occurredAt: new Date(r.occurredAt), waits: r.waits ?? [] })),
      lang,
    );
  }

  /**
   * Per scheme row of an order: its newest source versions with their record and document, Kingdee's
   * latest reply, and for changed_after_load what changed between the loaded and the newest version.
   */
  async orderExtras(
    orderNo: string,
    rows: Array<Record<string, unknown>>,
  ): Promise<Map<string, OrderExtras>> {
    const out = new Map<string, OrderExtras>();
    for (const row of rows) {
      const schemeId = String(row.schemeId);
      const versionRows = await this.ds.getRepository(SourceVersionEntity).find({
        select: { modified: true, firstOffset: true, firstSeenAt: true, record: true, document: true },
        where: { schemeId, sourceKey: orderNo },
        order: { modified: 'DESC', firstOffset: 'DESC' },
        take: 10,
      });
      const versions = versionRows.map((v) => ({
        sourceVersion: formatSourceVersion(v.modified, v.firstOffset),
        firstSeenAt: v.firstSeenAt,
        record: v.record,
        document: v.document,
      }));
      const lastReply = await this.ds.getRepository(AuditAttemptEntity).findOne({
        select: { operation: true, outcome: true, at: true, reply: true },
        where: { schemeId, sourceKey: orderNo, reply: Not(IsNull()) },
        order: { at: 'DESC' },
      });
      const extras: OrderExtras = {
        versions,
        lastReply: lastReply
          ? {
              operation: lastReply.operation,
              outcome: lastReply.outcome,
              at: lastReply.at,
              reply: lastReply.reply,
            }
          : null,
      };
      if (row.status === 'changed_after_load') extras.change = await this.change(schemeId, orderNo, row);
      out.set(schemeId, extras);
    }
    return out;
  }

  private async change(
    schemeId: string,
    orderNo: string,
    row: Record<string, unknown>,
  ): Promise<OrderExtras['change']> {
    const loadedRow = await this.ds.getRepository(AuditHistoryEntity).findOne({
      select: { sourceVersion: true },
      where: { schemeId, sourceKey: orderNo, status: 'loaded', sourceVersion: Not(IsNull()) },
      order: { sourceVersion: 'DESC' },
    });
    const loaded = loadedRow ? { v: loadedRow.sourceVersion! } : undefined;
    const newVersion = typeof row.sourceVersion === 'string' ? row.sourceVersion : null;
    const documentOf = async (version: string | null | undefined): Promise<unknown> => {
      const offset = version?.split('|')[1];
      if (!offset || !/^[0-9]+$/.test(offset)) return null;
      const v = await this.ds.getRepository(SourceVersionEntity).findOne({
        select: { document: true },
        where: { schemeId, sourceKey: orderNo, firstOffset: offset },
      });
      return v?.document ?? null;
    };
    const before = await documentOf(loaded?.v);
    const after = await documentOf(newVersion);
    return {
      loadedVersion: loaded?.v ?? null,
      newVersion,
      // Masked before the diff: a changed leaf carries no key maskPii would recognise afterwards.
      fields:
        before && after
          ? diffDocuments(maskPii(before, this.audit.piiKeys()), maskPii(after, this.audit.piiKeys()))
          : [],
    };
  }

  /** The orders list's rows for a download (same filters), at most `max`. */
  async exportRows(filter: Omit<AuditOrdersFilter, 'limit' | 'offset'>, max: number) {
    return (await this.audit.orders({ ...filter, limit: max, offset: 0 })).items;
  }
}
