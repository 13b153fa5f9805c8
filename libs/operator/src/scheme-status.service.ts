import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, InternalServerErrorException } from '@nestjs/common';
import { DataSource, EntityTarget, Like } from 'typeorm';
import { Clock, formatShanghai, parseShanghai } from '@libs/common';
import { AUDIT_STATUSES } from '@libs/contracts';
import {
  AuditOrderEntity,
  DeadLetterEntity,
  ParkedMessageEntity,
  queryRows,
  ResyncRequestEntity,
  SchemeStopEntity,
  ServiceStatusEntity,
  SyncCursorEntity,
} from '@libs/database';
import { CommonConfig } from '@libs/config';
import { CONFIG, DATA_SOURCE, SCHEME_FILE_STATUS_PREFIX } from '@libs/runtime';
import { Scheme, schemeContentHash, SchemeError, SchemeFileProblem } from '@libs/scheme';
import { OPERATOR_CLOCK, SCHEME_CATALOG, SchemeCatalog } from './operator.tokens';
import { Page, toPage } from './paging.util';
import {
  CircuitSummary,
  ExtractorSummary,
  readExtractorRoles,
  readLoaderAuthError,
  readLoaderCircuit,
} from './service-status.util';

interface CursorRow {
  schemeId: string;
  axis: string;
  cursorValue: string;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  paused: boolean;
}

/** Axis of a cursor row the operator creates to pause a scheme the extractor has not run yet. */
export const PAUSE_ROW_AXIS = 'consign_time';

function extractorView(e: ExtractorSummary | undefined) {
  return e ? { role: e.role, since: e.since, instances: e.instances } : null;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** A scheme file some service does not use (invalid, or refused), as /api/schemes shows it. */
export interface SchemeFileErrorView {
  file: string;
  schemeId: string | null;
  error: string;
  services: string[];
}

/**
 * Schemes as operators see them: definition (SCHEMES_DIR) joined with extraction state
 * (sync_cursors), audit counts, parked dead letters, pending resyncs and the loader circuit.
 * Pause/resume write `sync_cursors.paused`, which the extractor leader checks before each poll.
 */
@Injectable()
export class SchemeStatusService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(SCHEME_CATALOG) private readonly catalog: SchemeCatalog,
    @Inject(OPERATOR_CLOCK) private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: CommonConfig,
  ) {}

  /**
   * Problems of scheme files reported by any service (service_status `scheme_file:<file>`) and by this
   * operator's own watcher, for the file's current content only (a report about an older version of
   * the file is stale: whoever reads the new one reports anew).
   */
  async fileErrors(): Promise<SchemeFileErrorView[]> {
    const rows = await this.ds.getRepository(ServiceStatusEntity).find({
      select: { service: true, value: true },
      where: { key: Like(`${SCHEME_FILE_STATUS_PREFIX}%`) },
      order: { service: 'ASC', instance: 'ASC' },
    });
    const reports = [
      ...rows.map((r) => ({ service: r.service, problem: r.value as unknown as SchemeFileProblem })),
      ...(this.catalog.problems?.() ?? []).map((problem) => ({ service: 'operator', problem })),
    ];
    const current = new Map<string, string | null>();
    const hashOf = (file: string) => {
      if (!current.has(file)) {
        try {
          current.set(file, schemeContentHash(fs.readFileSync(path.join(this.config.SCHEMES_DIR, file))));
        } catch {
          current.set(file, null);
        }
      }
      return current.get(file);
    };
    const byFile = new Map<string, SchemeFileErrorView>();
    for (const { service, problem } of reports) {
      if (!problem?.file || hashOf(problem.file) !== problem.sha256) continue;
      const seen = byFile.get(problem.file);
      if (seen) {
        if (!seen.services.includes(service)) seen.services.push(service);
        seen.schemeId ??= problem.schemeId;
        // A refusal (e.g. the idempotency key) says more than "invalid" when services differ.
        if (!seen.error.includes(problem.error)) seen.error = `${seen.error}\n${service}: ${problem.error}`;
      } else {
        byFile.set(problem.file, {
          file: problem.file,
          schemeId: problem.schemeId,
          error: problem.error,
          services: [service],
        });
      }
    }
    return [...byFile.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  async list(q: {
    limit: number;
    offset: number;
  }): Promise<
    Page<Record<string, unknown>> & { circuit: CircuitSummary; fileErrors: SchemeFileErrorView[] }
  > {
    await this.catalog.refresh?.();
    const schemes = this.schemes();
    const fileErrors = await this.fileErrors();
    const cursors = new Map<string, CursorRow>(
      (
        await this.ds.getRepository(SyncCursorEntity).find({
          select: {
            schemeId: true,
            axis: true,
            cursorValue: true,
            lastRunAt: true,
            lastSuccessAt: true,
            lastError: true,
            paused: true,
          },
        })
      ).map((c) => [c.schemeId, c]),
    );
    const counts = new Map<string, Record<string, number>>();
    const statusCounts: Array<{ schemeId: string; status: string; n: number }> = await this.ds
      .getRepository(AuditOrderEntity)
      .createQueryBuilder('o')
      .select('o.schemeId', 'schemeId')
      .addSelect('o.status', 'status')
      .addSelect('count(*)::int', 'n')
      .groupBy('o.schemeId')
      .addGroupBy('o.status')
      .getRawMany();
    for (const row of statusCounts) {
      const c = counts.get(row.schemeId) ?? Object.fromEntries(AUDIT_STATUSES.map((s) => [s, 0]));
      c[row.status] = row.n;
      counts.set(row.schemeId, c);
    }
    const parked = await this.countPer(DeadLetterEntity, { state: 'parked' });
    const pending = await this.countPer(ResyncRequestEntity, { state: 'pending' });
    const circuit = await readLoaderCircuit(this.ds);
    const extractors = await readExtractorRoles(this.ds);
    // A Kingdee credential failure stops every scheme's loading: shown on each.
    const kingdeeAuthError = await readLoaderAuthError(this.ds);
    const stops = new Map(
      (await this.ds.getRepository(SchemeStopEntity).find()).map((r) => [
        r.schemeId,
        { reason: r.reason, since: r.stoppedAt },
      ]),
    );
    const parkedDocs = await this.countPer(ParkedMessageEntity);
    const now = this.clock.now();
    const known = new Set(schemes.map((s) => s.id));
    const entries: Array<{
      id: string;
      name: string;
      description: string | null;
      enabled: boolean;
      inFiles: boolean;
    }> = [
      ...schemes.map((s) => ({
        id: s.id,
        name: s.name,
        description: s.description ?? null,
        enabled: s.enabled,
        inFiles: true,
      })),
      // Cursors of schemes no longer in SCHEMES_DIR stay visible (their extraction state is real).
      ...[...cursors.keys()]
        .filter((id) => !known.has(id))
        .sort()
        .map((id) => ({ id, name: id, description: null, enabled: false, inFiles: false })),
    ];
    const items = entries.map((s) => {
      const c = cursors.get(s.id);
      const cursorMs = c ? parseShanghai(c.cursorValue) : undefined;
      return {
        ...s,
        fileError: fileErrors.find((f) => f.schemeId === s.id)?.error ?? null,
        paused: c?.paused ?? false,
        stopped: stops.get(s.id) ?? null,
        parkedDocuments: parkedDocs.get(s.id) ?? 0,
        cursor: c
          ? {
              axis: c.axis,
              value: c.cursorValue,
              ageSeconds: cursorMs === undefined ? null : seconds(now - cursorMs),
            }
          : null,
        lastRunAt: c?.lastRunAt ?? null,
        lastSuccessAt: c?.lastSuccessAt ?? null,
        // The extractor's last poll error (WDT), else a loader's Kingdee login failure.
        lastError: c?.lastError ?? extractors.get(s.id)?.lastError ?? kingdeeAuthError,
        extractor: extractorView(extractors.get(s.id)),
        lagSeconds: c?.lastSuccessAt ? seconds(now - new Date(c.lastSuccessAt).getTime()) : null,
        counts: counts.get(s.id) ?? Object.fromEntries(AUDIT_STATUSES.map((st) => [st, 0])),
        deadLettersParked: parked.get(s.id) ?? 0,
        pendingResyncs: pending.get(s.id) ?? 0,
        circuit: circuit.state,
      };
    });
    const page = toPage(items.slice(q.offset, q.offset + q.limit + 1), q.limit, q.offset);
    return { ...page, circuit, fileErrors };
  }

  /** Whether the scheme exists (in SCHEMES_DIR, or with a cursor row). */
  async exists(schemeId: string): Promise<boolean> {
    await this.catalog.refresh?.();
    if (this.schemes().some((s) => s.id === schemeId)) return true;
    return this.ds.getRepository(SyncCursorEntity).existsBy({ schemeId });
  }

  /** Every scheme id `exists` accepts: for the message answering an unknown one. */
  async knownIds(): Promise<string[]> {
    const rows = await this.ds.getRepository(SyncCursorEntity).find({ select: { schemeId: true } });
    return [...new Set([...this.schemes().map((s) => s.id), ...rows.map((r) => r.schemeId)])].sort();
  }

  /**
   * Sets `paused`. Pausing a scheme without a cursor row creates one (axis consign_time, cursor =
   * now in Shanghai wall-clock); resuming one without a row changes nothing.
   */
  async setPaused(
    schemeId: string,
    paused: boolean,
  ): Promise<{
    schemeId: string;
    paused: boolean;
    changed: boolean;
    cursorCreated: boolean;
    stopCleared: boolean;
  }> {
    // Resuming also ends a stop the loader made (the operator fixed its cause).
    const cleared = paused
      ? []
      : // Raw: DELETE … RETURNING says whether the scheme was stopped.
        await queryRows(this.ds, `DELETE FROM scheme_stops WHERE scheme_id = $1 RETURNING scheme_id`, [
          schemeId,
        ]);
    const stopCleared = cleared.length > 0;
    const result = await this.ds.transaction(async (tx) => {
      // Raw: the row lock (FOR UPDATE) and an insert that reports whether it won the race.
      const rows: Array<{ paused: boolean }> = await tx.query(
        `SELECT paused FROM sync_cursors WHERE scheme_id = $1 FOR UPDATE`,
        [schemeId],
      );
      if (rows.length === 0) {
        if (!paused) return { schemeId, paused: false, changed: false, cursorCreated: false };
        // Raw: INSERT … ON CONFLICT DO NOTHING RETURNING says whether this call created the cursor.
        const inserted: unknown[] = await tx.query(
          `INSERT INTO sync_cursors (scheme_id, axis, cursor_value, paused, updated_at)
           VALUES ($1, $2, $3, true, now()) ON CONFLICT (scheme_id) DO NOTHING RETURNING scheme_id`,
          [schemeId, PAUSE_ROW_AXIS, formatShanghai(this.clock.now())],
        );
        if (inserted.length > 0) return { schemeId, paused: true, changed: true, cursorCreated: true };
        // The extractor created the row meanwhile: fall through to the update.
      } else if (rows[0].paused === paused) {
        return { schemeId, paused, changed: false, cursorCreated: false };
      }
      // Raw: inside the transaction holding the cursor's row lock.
      await tx.query(`UPDATE sync_cursors SET paused = $2, updated_at = now() WHERE scheme_id = $1`, [
        schemeId,
        paused,
      ]);
      return { schemeId, paused, changed: true, cursorCreated: false };
    });
    return { ...result, changed: result.changed || stopCleared, stopCleared };
  }

  /** The scheme files; a broken one is a 500 naming the file and problem (no secrets in schemes). */
  private schemes(): Scheme[] {
    try {
      return this.catalog.list();
    } catch (err) {
      if (err instanceof SchemeError)
        throw new InternalServerErrorException(`scheme files in SCHEMES_DIR are invalid: ${err.message}`);
      throw err;
    }
  }

  /** Rows per scheme of a table with a `schemeId` column (optionally only those matching `where`). */
  private async countPer(
    entity: EntityTarget<{ schemeId: string | null }>,
    where: Record<string, unknown> = {},
  ): Promise<Map<string, number>> {
    const query = this.ds
      .getRepository(entity)
      .createQueryBuilder('t')
      .select('t.schemeId', 'schemeId')
      .addSelect('count(*)::int', 'n')
      .groupBy('t.schemeId');
    if (Object.keys(where).length > 0) query.where(where);
    const rows: Array<{ schemeId: string | null; n: number }> = await query.getRawMany();
    return new Map(rows.filter((r) => r.schemeId !== null).map((r) => [r.schemeId as string, r.n]));
  }
}
