import { DataSource } from 'typeorm';

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
  const rows: Array<{ instance: string; value: Record<string, unknown>; updated_at: Date }> = await ds.query(
    `SELECT instance, value, updated_at FROM service_status
      WHERE service = 'loader' AND key = 'kingdee_circuit' ORDER BY instance`,
  );
  let state: CircuitStateName = 'unknown';
  const instances = rows.map((r) => {
    const s = typeof r.value?.state === 'string' ? r.value.state : 'unknown';
    if ((RANK[s] ?? 0) > RANK[state]) state = s as CircuitStateName;
    return {
      instance: r.instance,
      state: s,
      lastError: typeof r.value?.lastError === 'string' ? r.value.lastError : null,
      since: typeof r.value?.since === 'string' ? r.value.since : null,
      updatedAt: r.updated_at,
    };
  });
  return { state, instances };
}
