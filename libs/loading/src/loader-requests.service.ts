import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { AppLogger, silentLogger } from '@libs/common';
import { draftSchemePath, parseScheme, Scheme } from '@libs/scheme';
import {
  PreviewRequestStore,
  RangeRequestStore,
  RangeRequestWorker,
  requestedRange,
  WorkPoller,
} from '@libs/work-requests';
import { BaseDataRef } from './base-data/base-data-diagnosis';
import { previewCodes } from './base-data/preview-codes.util';
import { replayLoad } from './load-replay.runner';
import { LoaderEngine } from './load-processor.factory';

export interface LoaderRequestsDeps {
  ds: DataSource;
  kafka: Kafka;
  engine: LoaderEngine;
  documentTopic: string;
  schemes: (id: string) => Scheme | undefined;
  owner: string;
  pollMs: number;
  logger?: AppLogger;
}

/**
 * The loader's part of operators' requests: replays of the load stage over a time range (through
 * this loader's engine: the live protocol), and the Kingdee check of the codes a live preview
 * references (a fresh look-up, whatever the automatic base-data checks are set to).
 */
export class LoaderRequests {
  private readonly replays: RangeRequestWorker;
  private readonly checks: WorkPoller;

  constructor(deps: LoaderRequestsDeps) {
    const logger = deps.logger ?? silentLogger;
    this.replays = new RangeRequestWorker(
      new RangeRequestStore(deps.ds),
      'load',
      async (request, ctx) => {
        const read = await replayLoad(
          { kafka: deps.kafka, engine: deps.engine, documentTopic: deps.documentTopic },
          requestedRange(request),
          {
            signal: ctx.signal,
            onProgress: (p) =>
              ctx.progress({ done: p.done, total: p.total, message: `${p.done}/${p.total} documents read` }),
          },
        );
        ctx.progress({ done: read.done, total: read.total });
        return `${read.done} documents replayed through the loader`;
      },
      { pollMs: deps.pollMs, owner: deps.owner, logger },
    );
    const previews = new PreviewRequestStore(deps.ds);
    this.checks = new WorkPoller(
      'preview:codes',
      async () => {
        const row = await previews.claim('checking', deps.owner, 60_000);
        if (!row) return false;
        const unchecked = row.codes;
        try {
          const scheme = row.schemeYaml
            ? parseScheme(row.schemeYaml, draftSchemePath(row.schemeId))
            : deps.schemes(row.schemeId);
          if (!scheme) throw new Error(`scheme ${row.schemeId} is not loaded by this loader`);
          const refs = row.refs as unknown as BaseDataRef[];
          await previews.checked(
            row.id,
            deps.owner,
            previewCodes(refs, await deps.engine.inspectCodes(scheme, refs)),
          );
        } catch (err) {
          const message = `the codes could not be checked in Kingdee: ${(err as Error).message}`;
          logger.warn({ preview: row.id, err: (err as Error).message }, 'preview code check failed');
          await previews.checked(row.id, deps.owner, unchecked, message);
        }
        return true;
      },
      { pollMs: deps.pollMs, owner: deps.owner, logger },
    );
  }

  start(): void {
    this.replays.start();
    this.checks.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.replays.stop(), this.checks.stop()]);
  }
}
