import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreviewRequestEntity, RangeRequestEntity } from '@libs/database';
import { DATA_SOURCE } from '@libs/runtime';
import { draftSchemePath, Scheme, unknownSchemeMessage } from '@libs/scheme';
import { OperatorActionsService } from './operator-actions.service';
import { SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { Page, toPage, whereDefined } from './paging.util';
import { DraftSchemeError, evaluatePreview, parseDraftScheme } from './preview-evaluation.util';

export interface RangeRequestRow {
  id: string;
  kind: 'backfill' | 'replay';
  schemeId: string | null;
  stage: 'extract' | 'transform' | 'load';
  from: Date;
  to: Date;
  force: boolean;
  state: string;
  progress: { done: number; total: number | null };
  message: string | null;
  cancelRequested: boolean;
  requestedBy: string;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const RANGE_COLUMNS = `id::text AS id, kind, scheme_id AS "schemeId", stage, range_from AS "from", range_to AS "to", force,
  state, json_build_object('done', progress_done, 'total', progress_total) AS progress, message,
  cancel_requested AS "cancelRequested", requested_by AS "requestedBy", requested_at AS "requestedAt",
  started_at AS "startedAt", finished_at AS "finishedAt"`;

const PREVIEW_COLUMNS = `id::text AS id, scheme_id AS "schemeId", order_no AS "orderNo", state, error, record, request,
  preconditions, codes, requested_by AS "requestedBy", requested_at AS "requestedAt", updated_at AS "updatedAt"`;

/**
 * Writes operators' range requests and previews to Postgres and reads their progress; the workers
 * (extractor, transformer, loader) carry them out. A preview of a pasted record is mapped here at
 * once (pure), so only its code check waits for a loader.
 */
@Injectable()
export class WorkRequestsService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(SCHEME_CATALOG) private readonly catalog: SchemeCatalog,
    private readonly actions: OperatorActionsService,
  ) {}

  async requestRange(
    input: {
      kind: 'backfill' | 'replay';
      schemeId?: string;
      stage: 'extract' | 'transform' | 'load';
      from: string;
      to: string;
      force?: boolean;
    },
    by: string,
  ): Promise<RangeRequestRow> {
    if (input.schemeId !== undefined) this.assertKnownScheme(input.schemeId);
    const id = randomUUID();
    await this.ds.transaction(async (tx) => {
      // Raw: the bounds are the operator's time strings, read by Postgres in Shanghai time (TypeORM
      // would turn them into Dates in the host's zone first).
      await tx.query(
        `INSERT INTO range_requests (id, kind, scheme_id, stage, range_from, range_to, force, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [id, input.kind, input.schemeId ?? null, input.stage, input.from, input.to, input.force ?? false, by],
      );
    });
    await this.actions.record({
      tokenName: by,
      action: input.kind,
      target: input.schemeId ?? '*',
      params: {
        requestId: id,
        stage: input.stage,
        from: input.from,
        to: input.to,
        force: input.force ?? false,
      },
      outcome: 'queued',
    });
    return (await this.getRange(id))!;
  }

  async getRange(id: string): Promise<RangeRequestRow | undefined> {
    return this.ranges().select(RANGE_COLUMNS).where('id = :id', { id }).getRawOne<RangeRequestRow>();
  }

  async listRanges(q: {
    kind?: string;
    state?: string;
    limit: number;
    offset: number;
  }): Promise<Page<RangeRequestRow>> {
    const rows = await whereDefined(this.ranges().select(RANGE_COLUMNS), [
      ['kind = :kind', { kind: q.kind }],
      ['state = :state', { state: q.state }],
    ])
      .orderBy('requested_at', 'DESC')
      .addOrderBy('id')
      .limit(q.limit + 1)
      .offset(q.offset)
      .getRawMany<RangeRequestRow>();
    return toPage(rows, q.limit, q.offset);
  }

  /** A queued request ends `cancelled` at once; a running one is asked to stop (its worker marks it). */
  async cancel(id: string, by: string): Promise<RangeRequestRow> {
    const row = await this.getRange(id);
    if (!row) throw new NotFoundException(`no range request ${id}`);
    if (!['queued', 'running'].includes(row.state))
      throw new ConflictException(`range request ${id} is already ${row.state}`);
    // Raw: one conditional update (CASE per column) decides "cancelled" or "cancel requested" atomically.
    await this.ds.query(
      `UPDATE range_requests
          SET cancel_requested = true,
              state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
              message = CASE WHEN state = 'queued' THEN 'cancelled by an operator' ELSE message END,
              finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END
        WHERE id = $1 AND state IN ('queued', 'running')`,
      [id],
    );
    await this.actions.record({
      tokenName: by,
      action: 'cancel-range-request',
      target: id,
      params: { kind: row.kind, stage: row.stage, schemeId: row.schemeId },
      outcome: row.state === 'queued' ? 'cancelled' : 'cancel requested',
    });
    return (await this.getRange(id))!;
  }

  async requestPreview(
    input: { schemeId: string; orderNo?: string; record?: Record<string, unknown>; schemeYaml?: string },
    by: string,
  ): Promise<unknown> {
    let draft: Scheme | undefined;
    if (input.schemeYaml !== undefined) {
      try {
        draft = parseDraftScheme(input.schemeYaml, draftSchemePath(input.schemeId));
      } catch (e) {
        if (!(e instanceof DraftSchemeError)) throw e;
        throw new BadRequestException({
          statusCode: 400,
          message: 'the scheme does not validate',
          error: 'Bad Request',
          issues: e.issues,
        });
      }
    }
    const saved = this.catalog.list().find((s) => s.id === input.schemeId);
    // An order is read by the extractor leading the scheme: it must be one the extractors run.
    if (input.orderNo !== undefined || !draft) this.assertKnownScheme(input.schemeId);
    const id = randomUUID();
    const base = {
      id,
      schemeId: input.schemeId,
      orderNo: input.orderNo ?? null,
      schemeYaml: input.schemeYaml ?? null,
      requestedBy: by,
    };
    const previews = this.ds.getRepository(PreviewRequestEntity);
    if (input.orderNo !== undefined) {
      await previews.insert({ ...base, state: 'fetching' });
    } else {
      const m = await evaluatePreview((draft ?? saved)!, input.record);
      await previews.insert({
        ...base,
        state: m.state,
        error: m.error,
        record: m.record as object,
        request: (m.request ?? null) as object,
        preconditions: m.preconditions,
        codes: m.codes,
        refs: m.refs,
      });
    }
    await this.actions.record({
      tokenName: by,
      action: 'preview',
      target: input.orderNo ? `${input.schemeId}/${input.orderNo}` : input.schemeId,
      params: {
        previewId: id,
        draft: input.schemeYaml !== undefined,
        source: input.orderNo ? 'wdt' : 'record',
      },
      outcome: 'requested',
    });
    return this.getPreview(id);
  }

  async getPreview(id: string): Promise<unknown> {
    return this.ds
      .getRepository(PreviewRequestEntity)
      .createQueryBuilder()
      .select(PREVIEW_COLUMNS)
      .where('id = :id', { id })
      .getRawOne();
  }

  private ranges() {
    return this.ds.getRepository(RangeRequestEntity).createQueryBuilder();
  }

  private assertKnownScheme(schemeId: string): void {
    const known = this.catalog.list().map((s) => s.id);
    if (!known.includes(schemeId))
      throw new BadRequestException(`schemeId: ${unknownSchemeMessage(schemeId, known)}`);
  }
}
