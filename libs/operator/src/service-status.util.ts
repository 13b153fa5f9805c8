import { DataSource, Like } from 'typeorm';
import { ServiceStatusEntity } from '@libs/database';

export type CircuitStateName = 'closed' | 'open' | 'half_open' | 'unknown';

export interface CircuitSummary {
  state: CircuitStateName;
  instances: Array<{
    instance: string;
    state: string;
    lastError: string | null;
    since: string | null;
    updatedAt: Date;
  }>;
}

const RANK: Record<string, number> = { unknown: 0, closed: 1, half_open: 2, open: 3 };

/**
 * The loader's Kingdee circuit as each loader instance reports it (service_status, key
 * `kingdee_circuit`, value `{state, lastError, since}`); the overall state is the worst of them.
 */
export async function readLoaderCircuit(ds: DataSource): Promise<CircuitSummary> {
  const rows = await ds
    .getRepository(ServiceStatusEntity)
    .find({ where: { service: 'loader', key: 'kingdee_circuit' }, order: { instance: 'ASC' } });
  let state: CircuitStateName = 'unknown';
  const instances = rows.map((r) => {
    const s = typeof r.value?.state === 'string' ? r.value.state : 'unknown';
    if ((RANK[s] ?? 0) > RANK[state]) state = s as CircuitStateName;
    return {
      instance: r.instance,
      state: s,
      lastError: typeof r.value?.lastError === 'string' ? r.value.lastError : null,
      since: typeof r.value?.since === 'string' ? r.value.since : null,
      updatedAt: r.updatedAt,
    };
  });
  return { state, instances };
}

export interface ExtractorSummary {
  /** `leader` when a replica leads the scheme, else `standby` (replicas wait for the lease). */
  role: 'leader' | 'standby';
  /** Since when the replica shown has had its role. */
  since: string | null;
  instances: Array<{ instance: string; role: string; since: string | null; updatedAt: Date }>;
  /** The last poll error the leading replica reported (WDT system, kind and code). */
  lastError: string | null;
}

/**
 * Extractor replicas per scheme as each reports itself (service_status, service `extractor`, key
 * `scheme:<id>`, value `{role, since, lastError}`, written once per transition).
 */
export async function readExtractorRoles(ds: DataSource): Promise<Map<string, ExtractorSummary>> {
  const rows = await ds
    .getRepository(ServiceStatusEntity)
    .find({ where: { service: 'extractor', key: Like('scheme:%') }, order: { instance: 'ASC' } });
  const out = new Map<string, ExtractorSummary>();
  for (const r of rows) {
    const schemeId = r.key.slice('scheme:'.length);
    const role = r.value?.role === 'leader' ? 'leader' : 'standby';
    const since = typeof r.value?.since === 'string' ? r.value.since : null;
    const lastError = typeof r.value?.lastError === 'string' ? r.value.lastError : null;
    const entry = out.get(schemeId) ?? { role, since, instances: [], lastError: null };
    entry.instances.push({ instance: r.instance, role, since, updatedAt: r.updatedAt });
    if (role === 'leader') Object.assign(entry, { role, since, lastError });
    out.set(schemeId, entry);
  }
  return out;
}

/**
 * A Kingdee login failure a loader reports (service_status, key `kingdee_auth`, value
 * `{ok, lastError, since}`): the most recent failing one, or null when every loader logs in.
 */
export async function readLoaderAuthError(ds: DataSource): Promise<string | null> {
  // The refused one (`ok: false`) reported last, whichever loader it was.
  const row = await ds
    .getRepository(ServiceStatusEntity)
    .createQueryBuilder('s')
    .where(`s.service = 'loader' AND s.key = 'kingdee_auth' AND (s.value->>'ok')::boolean IS FALSE`)
    .orderBy('s.updatedAt', 'DESC')
    .getOne();
  const error = row?.value?.lastError;
  return typeof error === 'string' ? error : null;
}
