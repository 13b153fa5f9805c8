import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DeadLetterPayload, DeadLetterPayloadSchema } from '@libs/contracts';
import { DeadLetterEntity, DeadLetterPayloadEntity } from '@libs/database';
import { DATA_SOURCE } from '@libs/runtime';
import { Page, toPage, whereDefined } from './paging.util';
import { maskPii } from './pii-mask.util';

export interface DeadLetterRow {
  id: string;
  stage: string;
  schemeId: string | null;
  sourceKey: string | null;
  errorClass: string;
  errorMessage: string;
  attempts: number;
  originTopic: string;
  originPartition: number;
  originOffset: string;
  originKey: string | null;
  payload: DeadLetterPayload;
  state: string;
  occurredAt: Date;
  repushedAt: Date | null;
  repushedBy: string | null;
}

const COLUMNS = `event_id::text AS id, stage, scheme_id AS "schemeId", source_key AS "sourceKey",
  error_class AS "errorClass", error_message AS "errorMessage", attempts, origin_topic AS "originTopic",
  origin_partition AS "originPartition", origin_offset AS "originOffset", origin_key AS "originKey", payload,
  state, occurred_at AS "occurredAt", repushed_at AS "repushedAt", repushed_by AS "repushedBy"`;

/** Chunk size when streaming a payload out of Postgres (bounded memory whatever the size). */
const STREAM_CHUNK_BYTES = 256 * 1024;

export class PayloadIntegrityError extends Error {
  override readonly name = 'PayloadIntegrityError';
}

/** Extractor records never reached a topic: their origin is `wdt:<method>`. */
export function isWdtOrigin(topic: string): boolean {
  return topic.startsWith('wdt:');
}

export function summarize(row: DeadLetterRow) {
  return {
    id: row.id,
    stage: row.stage,
    schemeId: row.schemeId,
    sourceKey: row.sourceKey,
    errorClass: row.errorClass,
    errorMessage: row.errorMessage,
    attempts: row.attempts,
    origin: {
      topic: row.originTopic,
      partition: row.originPartition,
      offset: row.originOffset,
      key: row.originKey,
    },
    payloadStorage: row.payload.storage,
    payloadSizeBytes:
      row.payload.storage === 'postgres'
        ? row.payload.sizeBytes
        : row.payload.encoding === 'base64'
          ? Buffer.from(row.payload.data, 'base64').length
          : Buffer.byteLength(row.payload.data, 'utf8'),
    state: row.state,
    occurredAt: row.occurredAt,
    repushedAt: row.repushedAt,
    repushedBy: row.repushedBy,
  };
}

/** Dead letters (table dead_letters) and oversize payload bytes (dead_letter_payloads). */
@Injectable()
export class DeadLettersService {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** dead_letters as the operator reads it (COLUMNS: the API's names). */
  private deadLetters(manager: EntityManager = this.ds.manager) {
    return manager.getRepository(DeadLetterEntity).createQueryBuilder();
  }

  async list(q: {
    state?: string;
    stage?: string;
    schemeId?: string;
    sourceKey?: string;
    from?: string;
    to?: string;
    limit: number;
    offset: number;
  }): Promise<Page<ReturnType<typeof summarize>>> {
    const rows = await whereDefined(this.deadLetters().select(COLUMNS), [
      ['state = :state', { state: q.state }],
      ['stage = :stage', { stage: q.stage }],
      ['scheme_id = :schemeId', { schemeId: q.schemeId }],
      ['source_key = :sourceKey', { sourceKey: q.sourceKey }],
      ['occurred_at >= :from', { from: q.from }],
      ['occurred_at < :to', { to: q.to }],
    ])
      .orderBy('occurred_at', 'DESC')
      .addOrderBy('event_id')
      .limit(q.limit + 1)
      .offset(q.offset)
      .getRawMany<DeadLetterRow>();
    return toPage(rows.map(summarize), q.limit, q.offset);
  }

  async get(id: string, manager: EntityManager = this.ds.manager): Promise<DeadLetterRow | undefined> {
    return this.deadLetters(manager)
      .select(COLUMNS)
      .where('event_id = :id', { id })
      .getRawOne<DeadLetterRow>();
  }

  /** The envelope with its payload: inline bytes decoded (PII masked unless `reveal`), or where they are. */
  async detail(row: DeadLetterRow, reveal: boolean) {
    const base = summarize(row);
    const payload = DeadLetterPayloadSchema.parse(row.payload);
    if (payload.storage === 'postgres') {
      const stored = await this.ds.getRepository(DeadLetterPayloadEntity).existsBy({ id: payload.ref });
      return {
        ...base,
        payload: {
          ...payload,
          stored,
          href: `/api/dead-letters/${row.id}/payload`,
        },
      };
    }
    return { ...base, payload: presentInline(payload, reveal) };
  }

  /** The original bytes of a dead letter (inline or from dead_letter_payloads, hash-checked). */
  async originalBytes(
    row: DeadLetterRow,
    manager: EntityManager = this.ds.manager,
  ): Promise<Buffer | undefined> {
    const payload = DeadLetterPayloadSchema.parse(row.payload);
    if (payload.storage === 'inline')
      return Buffer.from(payload.data, payload.encoding === 'base64' ? 'base64' : 'utf8');
    const stored = await manager
      .getRepository(DeadLetterPayloadEntity)
      .findOne({ select: { data: true }, where: { id: payload.ref } });
    if (!stored) return undefined;
    const sha = createHash('sha256').update(stored.data).digest('hex');
    if (sha !== payload.sha256)
      throw new PayloadIntegrityError(
        `payload ${payload.ref} does not match its sha256 (stored bytes changed)`,
      );
    return stored.data;
  }

  /** Size of a stored payload, or undefined when dead_letter_payloads has no such row. */
  async storedSize(ref: string): Promise<number | undefined> {
    // The bytes' own length (what is streamed), measured in Postgres without sending them.
    const row: { n: number } | undefined = await this.ds
      .getRepository(DeadLetterPayloadEntity)
      .createQueryBuilder('p')
      .select('octet_length(p.data)::int', 'n')
      .where('p.id = :ref', { ref })
      .getRawOne();
    return row?.n;
  }

  /** Streams a stored payload out of Postgres in chunks (never the whole value in memory at once). */
  streamStored(ref: string, size: number): Readable {
    const ds = this.ds;
    async function* chunks() {
      for (let start = 0; start < size; start += STREAM_CHUNK_BYTES) {
        // Raw: substring of a bytea (a chunk of the stored bytes, not the whole value).
        const rows: Array<{ chunk: Buffer }> = await ds.query(
          `SELECT substring(data FROM $2 FOR $3) AS chunk FROM dead_letter_payloads WHERE id = $1`,
          [ref, start + 1, STREAM_CHUNK_BYTES],
        );
        if (!rows[0]) throw new Error(`payload ${ref} disappeared while streaming`);
        yield rows[0].chunk;
      }
    }
    return Readable.from(chunks());
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Inline payload for an answer: utf8 text masked (and parsed when JSON); binary withheld unless revealed. */
export function presentInline(payload: Extract<DeadLetterPayload, { storage: 'inline' }>, reveal: boolean) {
  let text: string | undefined;
  if (payload.encoding === 'utf8') text = payload.data;
  else {
    try {
      text = utf8.decode(Buffer.from(payload.data, 'base64'));
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) {
    return reveal
      ? { ...payload, masked: false }
      : {
          storage: payload.storage,
          encoding: payload.encoding,
          data: null,
          masked: true,
          withheld: 'binary payload: personal data cannot be masked; pass ?reveal=pii to see it',
        };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (reveal) return { ...payload, ...(json !== undefined ? { json } : {}), masked: false };
  const data =
    payload.encoding === 'utf8' ? maskPii(text) : Buffer.from(maskPii(text), 'utf8').toString('base64');
  return {
    storage: payload.storage,
    encoding: payload.encoding,
    data,
    ...(json !== undefined ? { json: maskPii(json) } : {}),
    masked: true,
  };
}
