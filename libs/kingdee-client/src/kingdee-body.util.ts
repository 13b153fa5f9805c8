import type { KingdeeDialect } from './kingdee.options';

/** One parameter of a service method, in declaration order. */
export interface KingdeeParam {
  name: string;
  value: unknown;
  /** `data`-style parameter: an object in the named dialect, a JSON string in the others. */
  json?: boolean;
}

export interface LegacyEnvelopeInfo {
  rid: string;
  timestamp: string;
}

/**
 * Builds a request body in the chosen dialect (business calls use the `dialect` option, logins the
 * `loginBody` option, which is `positional` or `named`):
 * - named: `{"formid":"PUR_MRB","data":{…}}`;
 * - positional: `{"parameters":["PUR_MRB","{…}"]}`;
 * - legacy: `{"format":1,"useragent":"ApiClient","rid":…,"parameters":"[…]","timestamp":…,"v":"1.0"}`.
 */
export function buildRequestBody(
  dialect: KingdeeDialect,
  params: KingdeeParam[],
  legacy?: LegacyEnvelopeInfo,
): string {
  if (dialect === 'named') {
    const body: Record<string, unknown> = {};
    for (const p of params) body[p.name] = p.value;
    return JSON.stringify(body);
  }
  const positional = params.map((p) => (p.json ? JSON.stringify(p.value) : p.value));
  if (dialect === 'positional') return JSON.stringify({ parameters: positional });
  return JSON.stringify({
    format: 1,
    useragent: 'ApiClient',
    rid: legacy?.rid ?? '0',
    parameters: JSON.stringify(positional),
    timestamp: legacy?.timestamp ?? '',
    v: '1.0',
  });
}
