import { DataSource } from 'typeorm';

/** A raw event's identity as a source version: the content (fingerprint) of one order of a scheme. */
export interface VersionedRecord {
  schemeId: string;
  sourceKey: string;
  fingerprint: string;
  /** WDT `modified` of the record, when it has one. */
  modified: unknown;
  /** Offset of the raw-topic message carrying it. */
  offset: string;
  /** The WDT record (kept for the order page; personal data is masked when it is read). */
  record?: unknown;
  /** The Kingdee document (BatchSave `Model`) mapped from it; absent when skipped or not mapped. */
  document?: unknown;
}

/** `<modified>|<offset, 19 digits>`: compares as text in the order of versions (SourceVersionSchema). */
export function formatSourceVersion(modified: unknown, offset: string | number): string {
  const m = typeof modified === 'string' && /^[0-9: -]*$/.test(modified) ? modified : '';
  return `${m}|${String(offset).padStart(19, '0')}`;
}

export function versionKey(r: Pick<VersionedRecord, 'schemeId' | 'sourceKey' | 'fingerprint'>): string {
  return `${r.schemeId}\u0000${r.sourceKey}\u0000${r.fingerprint}`;
}

/** Assigns source versions to raw records (see SourceVersionSchema). */
export interface SourceVersions {
  assign(records: VersionedRecord[]): Promise<Map<string, string>>;
}

/**
 * Versions kept in Postgres (table source_versions): the offset of a content's first emission is
 * remembered, so a re-emission (resync, re-push, replay) of the same content is the same version and
 * never looks newer than an edit made after it. One statement per batch, which also stores the
 * version's record and document for the order page: written when the version is first seen; a later
 * emission only fills a document still missing (a version parked while its scheme was paused is
 * mapped when it drains), never overwrites one.
 */
export class PostgresSourceVersions implements SourceVersions {
  constructor(private readonly ds: DataSource) {}

  async assign(records: VersionedRecord[]): Promise<Map<string, string>> {
    const unique = new Map<string, VersionedRecord>();
    for (const r of records) {
      const k = versionKey(r);
      const seen = unique.get(k);
      if (!seen || BigInt(r.offset) < BigInt(seen.offset)) unique.set(k, r);
    }
    const out = new Map<string, string>();
    if (unique.size === 0) return out;
    const rows = [...unique.values()];
    const stored: Array<{
      scheme_id: string;
      source_key: string;
      fingerprint: string;
      modified: string;
      first_offset: string;
      // Raw: a conditional upsert over an unnest batch (a version keeps its first offset).
    }> = await this.ds.query(
      `INSERT INTO source_versions (scheme_id, source_key, fingerprint, modified, first_offset, record, document)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::jsonb[], $7::jsonb[])
         ON CONFLICT (scheme_id, source_key, fingerprint) DO UPDATE SET modified = source_versions.modified,
           record = COALESCE(source_versions.record, EXCLUDED.record),
           document = COALESCE(source_versions.document, EXCLUDED.document)
         RETURNING scheme_id, source_key, fingerprint, modified, first_offset::text`,
      [
        rows.map((r) => r.schemeId),
        rows.map((r) => r.sourceKey),
        rows.map((r) => r.fingerprint),
        rows.map((r) => formatSourceVersion(r.modified, 0).split('|')[0]),
        rows.map((r) => r.offset),
        rows.map((r) => toJsonb(r.record)),
        rows.map((r) => toJsonb(r.document)),
      ],
    );
    for (const s of stored)
      out.set(
        versionKey({ schemeId: s.scheme_id, sourceKey: s.source_key, fingerprint: s.fingerprint }),
        formatSourceVersion(s.modified, s.first_offset),
      );
    return out;
  }
}

function toJsonb(value: unknown): string | null {
  // \u0000 is valid JSON text but jsonb refuses it: such a snapshot is dropped, not the batch.
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value);
  return text.includes('\\u0000') ? null : text;
}

/** Without a database (tests of pure logic, benchmarks): the message's own offset. */
export class OffsetSourceVersions implements SourceVersions {
  async assign(records: VersionedRecord[]): Promise<Map<string, string>> {
    return new Map(records.map((r) => [versionKey(r), formatSourceVersion(r.modified, r.offset)]));
  }
}
