import { DataSource, In } from 'typeorm';
import { PreviewRequestEntity, queryRows } from '@libs/database';

/** One code a previewed document references, as the loader is asked to check it. */
export interface PreviewCodeRef {
  form: string;
  noun: string;
  field: string;
  code: string;
  org: string | null;
  row: number | null;
}

/** What a preview shows of one referenced code. */
export interface PreviewCode {
  field: string;
  formId: string;
  code: string;
  state: 'ok' | 'missing' | 'forbidden' | 'unallocated' | 'unchecked';
  message: string;
}

export interface PreviewPrecondition {
  name: string;
  passed: boolean;
  message: string;
}

/** The result of mapping the record (masked before it is stored). */
export interface PreviewMapping {
  state: 'checking' | 'done' | 'failed';
  error: string | null;
  record: unknown;
  request: unknown;
  preconditions: PreviewPrecondition[];
  codes: PreviewCode[];
  refs: PreviewCodeRef[];
}

export interface ClaimedPreview {
  id: string;
  schemeId: string;
  orderNo: string | null;
  /** The draft being edited; null: the saved scheme (as the worker has it loaded). */
  schemeYaml: string | null;
  refs: PreviewCodeRef[];
  codes: PreviewCode[];
}

/**
 * The workers' side of `preview_requests`: the extractor claims rows in `fetching` (it reads the
 * order from WDT and maps it), the loader rows in `checking` (it looks the referenced codes up in
 * Kingdee). Claimed with `FOR UPDATE SKIP LOCKED` and a lease, like range requests.
 */
export class PreviewRequestStore {
  constructor(private readonly ds: DataSource) {}

  async claim(
    state: 'fetching' | 'checking',
    owner: string,
    leaseMs: number,
    schemeIds?: readonly string[],
  ): Promise<ClaimedPreview | undefined> {
    // Raw: a claim: one conditional UPDATE of a subquery's row with a lease on the database clock.
    const rows = await queryRows<ClaimedPreview>(
      this.ds,

      `UPDATE preview_requests p
          SET owner = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
        WHERE p.id = (
          SELECT id FROM preview_requests
           WHERE state = $1
             AND ($4::text[] IS NULL OR scheme_id = ANY($4::text[]))
             AND (lease_until IS NULL OR lease_until < now())
           ORDER BY requested_at
           FOR UPDATE SKIP LOCKED
           LIMIT 1)
        RETURNING id::text AS id, scheme_id AS "schemeId", order_no AS "orderNo", scheme_yaml AS "schemeYaml",
                  refs, codes`,
      [state, owner, leaseMs, schemeIds ? [...schemeIds] : null],
    );
    return rows[0] ?? (undefined as ClaimedPreview | undefined);
  }

  /** The record was fetched and mapped (or could not be): the next state and what it shows. */
  async mapped(id: string, owner: string, m: PreviewMapping): Promise<void> {
    // Raw: conditional on the owner and state (fencing) in one update.
    await this.ds.query(
      `UPDATE preview_requests SET state = $3, error = $4, record = $5, request = $6, preconditions = $7,
              codes = $8, refs = $9, owner = NULL, lease_until = NULL, updated_at = now()
        WHERE id = $1 AND owner = $2 AND state = 'fetching'`,
      [
        id,
        owner,
        m.state,
        m.error,
        m.record === undefined ? null : JSON.stringify(m.record),
        m.request === undefined || m.request === null ? null : JSON.stringify(m.request),
        JSON.stringify(m.preconditions),
        JSON.stringify(m.codes),
        JSON.stringify(m.refs),
      ],
    );
  }

  async fail(id: string, owner: string, error: string): Promise<void> {
    await this.ds.getRepository(PreviewRequestEntity).update(
      { id, owner, state: In(['fetching', 'checking']) },
      {
        state: 'failed',
        error: error.slice(0, 2000),
        owner: null,
        leaseUntil: null,
        updatedAt: () => 'now()',
      },
    );
  }

  async checked(id: string, owner: string, codes: PreviewCode[], error: string | null = null): Promise<void> {
    await this.ds.getRepository(PreviewRequestEntity).update(
      { id, owner, state: 'checking' },
      {
        state: 'done',
        codes: codes as unknown[],
        ...(error !== null ? { error } : {}),
        owner: null,
        leaseUntil: null,
        updatedAt: () => 'now()',
      },
    );
  }
}
