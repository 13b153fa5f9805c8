import { buildBillNoFilter, KingdeeQueryRow } from '@libs/kingdee-client';
import { KingdeeConnection, RetrySettings } from '../connection-circuit';
import {
  BaseDataForm,
  BaseDataProblem,
  BaseDataRef,
  BaseDataRow,
  describeProblem,
  diagnoseReference,
} from './base-data-diagnosis';

export interface BaseDataInspectorOptions {
  /** How long a look-up of a code is reused (`LOADER_BASE_DATA_CACHE_TTL_MS`). */
  ttlMs: number;
  readRetry: RetrySettings;
  /** Monotonic milliseconds (tests may pass their own). */
  now?: () => number;
}

/** What holds for one code. */
export interface BaseDataFinding {
  ref: BaseDataRef;
  problem: BaseDataProblem | 'usable';
  /** `supplier GYS999 does not exist in Kingdee`; empty when usable. */
  diagnosis: string;
}

const PAGE = 2000;
const PER_QUERY = 500;

/**
 * Looks codes up in Kingdee's base data (`ExecuteBillQuery` on BD_Supplier, BD_MATERIAL, BD_STOCK,
 * ORG_Organizations with FNumber, FUseOrgId.FNumber, FForbidStatus, FDocumentStatus): one query per
 * form for all codes asked at once (paged; split only past 500 codes), through the connection's
 * circuit. Answers are cached per form and code for `ttlMs`; `fresh` skips (and refreshes) the cache.
 */
export class BaseDataInspector {
  private readonly cache = new Map<string, { at: number; rows: BaseDataRow[] }>();
  private readonly now: () => number;

  constructor(private readonly options: BaseDataInspectorOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  async inspect(
    connection: KingdeeConnection,
    refs: readonly BaseDataRef[],
    opts: { fresh?: boolean; signal?: AbortSignal } = {},
  ): Promise<BaseDataFinding[]> {
    const rows = await this.rowsFor(
      connection,
      refs.map((r) => ({ form: r.form, code: r.code })),
      opts,
    );
    return refs.map((ref) => {
      const problem = diagnoseReference(ref, rows.get(cacheKey(ref.form, ref.code)) ?? []);
      return { ref, problem, diagnosis: problem === 'usable' ? '' : describeProblem(ref, problem) };
    });
  }

  /** Kingdee's rows per `form\0CODE`. */
  private async rowsFor(
    connection: KingdeeConnection,
    wanted: Array<{ form: BaseDataForm; code: string }>,
    opts: { fresh?: boolean; signal?: AbortSignal },
  ): Promise<Map<string, BaseDataRow[]>> {
    const out = new Map<string, BaseDataRow[]>();
    const missing = new Map<BaseDataForm, Set<string>>();
    const now = this.now();
    for (const { form, code } of wanted) {
      const key = cacheKey(form, code);
      const hit = opts.fresh ? undefined : this.cache.get(key);
      if (hit && now - hit.at < this.options.ttlMs) out.set(key, hit.rows);
      else missing.set(form, (missing.get(form) ?? new Set()).add(code));
    }
    for (const [form, codes] of missing) {
      const list = [...codes];
      const found = new Map<string, BaseDataRow[]>(list.map((c) => [cacheKey(form, c), []]));
      for (let i = 0; i < list.length; i += PER_QUERY)
        for (const row of await this.query(connection, form, list.slice(i, i + PER_QUERY), opts.signal)) {
          const key = cacheKey(form, row.number);
          found.set(key, [...(found.get(key) ?? []), row]);
        }
      const at = this.now();
      for (const [key, rows] of found) {
        this.cache.set(key, { at, rows });
        out.set(key, rows);
      }
    }
    return out;
  }

  private async query(
    connection: KingdeeConnection,
    form: BaseDataForm,
    codes: string[],
    signal?: AbortSignal,
  ): Promise<BaseDataRow[]> {
    const allocated = form !== 'ORG_Organizations';
    const keys = ['FNumber', ...(allocated ? ['FUseOrgId.FNumber'] : []), 'FForbidStatus', 'FDocumentStatus'];
    const out: BaseDataRow[] = [];
    for (let start = 0; ; start += PAGE) {
      const rows: KingdeeQueryRow[] = await connection.circuit.withRetries(
        this.options.readRetry,
        () =>
          connection.circuit.call(() =>
            connection.api.executeBillQueryObjects(
              {
                FormId: form,
                FieldKeys: keys,
                FilterString: buildBillNoFilter('FNumber', codes),
                OrderString: 'FNumber ASC',
                StartRow: start,
                Limit: PAGE,
              },
              signal,
            ),
          ),
        signal,
      );
      for (const r of rows)
        out.push({
          number: String(r.FNumber ?? ''),
          useOrg: allocated ? text(r['FUseOrgId.FNumber']) : null,
          forbidStatus: text(r.FForbidStatus),
          documentStatus: text(r.FDocumentStatus),
        });
      if (rows.length < PAGE) return out;
    }
  }
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function cacheKey(form: BaseDataForm, code: string): string {
  return `${form}\u0000${code.toUpperCase()}`;
}
