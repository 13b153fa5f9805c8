import type {
  KingdeeFieldError,
  KingdeeModelOutcome,
  KingdeeResponseStatus,
  KingdeeSuccessEntity,
  KingdeeSuccessMessage,
} from './kingdee.types';

/** Parsing of Kingdee's JSON replies. Lenient on input types (booleans/numbers as strings), strict on output. */

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive property read (Kingdee is PascalCase, some proxies camelCase). */
export function pick(obj: Json, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** `true`, `"true"`, `"True"`, `1`, `"1"` → true. */
export function parseKingdeeBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return v.trim().toLowerCase() === 'true' || v.trim() === '1';
  return false;
}

function toIntOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}

function toTextOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return null;
}

function parseFieldError(v: unknown): KingdeeFieldError {
  const o = isObject(v) ? v : {};
  return {
    fieldName: toTextOrNull(pick(o, 'FieldName')) || null,
    message: toTextOrNull(pick(o, 'Message')) ?? '',
    dIndex: toIntOrNull(pick(o, 'DIndex')),
  };
}

function parseSuccessEntity(v: unknown): KingdeeSuccessEntity {
  const o = isObject(v) ? v : {};
  return {
    id: toTextOrNull(pick(o, 'Id')) ?? '',
    number: toTextOrNull(pick(o, 'Number')),
    dIndex: toIntOrNull(pick(o, 'DIndex')),
  };
}

function parseSuccessMessage(v: unknown): KingdeeSuccessMessage {
  const o = isObject(v) ? v : {};
  return {
    fieldName: toTextOrNull(pick(o, 'FieldName')) || null,
    message: toTextOrNull(pick(o, 'Message')) ?? '',
    dIndex: toIntOrNull(pick(o, 'DIndex')),
  };
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Parses one `ResponseStatus` object. */
export function parseResponseStatus(raw: unknown): KingdeeResponseStatus {
  const o = isObject(raw) ? raw : {};
  const isSuccess = parseKingdeeBoolean(pick(o, 'IsSuccess'));
  const msgCode = toIntOrNull(pick(o, 'MsgCode')) ?? (isSuccess ? 0 : -1);
  const errorCodeRaw = toTextOrNull(pick(o, 'ErrorCode'));
  return {
    isSuccess,
    msgCode,
    errorCode: errorCodeRaw === '' ? null : errorCodeRaw,
    errors: asArray(pick(o, 'Errors')).map(parseFieldError),
    successEntities: asArray(pick(o, 'SuccessEntitys')).map(parseSuccessEntity),
    successMessages: asArray(pick(o, 'SuccessMessages')).map(parseSuccessMessage),
  };
}

export interface ExtractedResult {
  status: KingdeeResponseStatus;
  /** The `Result` object holding ResponseStatus (for NeedReturnData, View's inner Result, ...). */
  result: Json;
}

/**
 * Finds `Result.ResponseStatus` in a reply: `{"Result":{"ResponseStatus":…}}`, the query-style wrapping
 * `[[{"Result":{"ResponseStatus":…}}]]`, or a bare `{"ResponseStatus":…}`. Null when absent.
 */
export function extractResponseStatus(json: unknown): ExtractedResult | null {
  let candidate: unknown = json;
  if (Array.isArray(candidate) && candidate.length === 1 && Array.isArray(candidate[0])) {
    const inner = candidate[0] as unknown[];
    if (inner.length === 1 && isObject(inner[0])) candidate = inner[0];
  }
  if (!isObject(candidate)) return null;
  const result = pick(candidate, 'Result');
  if (isObject(result)) {
    const status = pick(result, 'ResponseStatus');
    if (isObject(status)) return { status: parseResponseStatus(status), result };
  }
  const direct = pick(candidate, 'ResponseStatus');
  if (isObject(direct)) return { status: parseResponseStatus(direct), result: candidate };
  return null;
}

export type ParsedQueryReply =
  | { ok: true; rows: unknown[][] }
  | { ok: false; status: KingdeeResponseStatus }
  | { ok: false; status: null };

/** ExecuteBillQuery: a bare 2-D array of rows, or an error wrapped as `[[{"Result":{"ResponseStatus":…}}]]`. */
export function parseQueryReply(json: unknown): ParsedQueryReply {
  const wrapped = extractResponseStatus(json);
  if (wrapped) {
    if (wrapped.status.isSuccess) return { ok: true, rows: [] };
    return { ok: false, status: wrapped.status };
  }
  if (!Array.isArray(json)) return { ok: false, status: null };
  if (!json.every((row) => Array.isArray(row))) return { ok: false, status: null };
  return { ok: true, rows: json as unknown[][] };
}

/** Turns rows into objects keyed by the requested field keys (in order). */
export function rowsToObjects(fieldKeys: string[], rows: unknown[][]): Record<string, unknown>[] {
  return rows.map((row) => {
    const obj: Record<string, unknown> = {};
    fieldKeys.forEach((key, i) => {
      obj[key] = row[i];
    });
    return obj;
  });
}

/** Splits `"FID, FBillNo"` or a list into trimmed, non-empty keys. */
export function normaliseFieldKeys(fieldKeys: string | string[]): string[] {
  const list = Array.isArray(fieldKeys) ? fieldKeys : fieldKeys.split(',');
  return list.map((k) => k.trim()).filter((k) => k.length > 0);
}

/**
 * Per-model outcomes of a BatchSave from its ResponseStatus. Errors without a DIndex apply to every model
 * that has no outcome of its own when the call saved nothing.
 */
export function buildModelOutcomes(status: KingdeeResponseStatus, modelCount: number): KingdeeModelOutcome[] {
  const outcomes: KingdeeModelOutcome[] = [];
  for (let i = 0; i < modelCount; i += 1) {
    outcomes.push({ dIndex: i, status: 'unreported', id: null, number: null, errors: [] });
  }
  for (const entity of status.successEntities) {
    const target =
      entity.dIndex !== null ? outcomes[entity.dIndex] : modelCount === 1 ? outcomes[0] : undefined;
    if (!target) continue;
    target.status = 'saved';
    target.id = entity.id || null;
    target.number = entity.number;
  }
  const unindexed: KingdeeFieldError[] = [];
  for (const error of status.errors) {
    const target = error.dIndex !== null ? outcomes[error.dIndex] : undefined;
    if (!target) {
      unindexed.push(error);
      continue;
    }
    target.errors.push(error);
    if (target.status !== 'saved') target.status = 'failed';
  }
  if (!status.isSuccess && status.successEntities.length === 0) {
    for (const outcome of outcomes) {
      if (outcome.status === 'unreported' && (unindexed.length > 0 || status.errors.length === 0)) {
        outcome.status = 'failed';
        outcome.errors.push(...unindexed);
      }
    }
  }
  return outcomes;
}

export interface ParsedLoginReply {
  loginResultType: number | null;
  message: string | null;
  /** KDSVCSessionId from the body (kept internal by the client). */
  sessionId: string | null;
}

export function parseLoginReply(json: unknown): ParsedLoginReply {
  const o = isObject(json) ? json : {};
  return {
    loginResultType: toIntOrNull(pick(o, 'LoginResultType')),
    message: toTextOrNull(pick(o, 'Message')),
    sessionId: toTextOrNull(pick(o, 'KDSVCSessionId')),
  };
}

/** Reads cookie name=value pairs out of Set-Cookie header values. */
export function parseSetCookies(setCookies: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const header of setCookies) {
    // A joined header may hold several cookies separated by ", " before a name=; split conservatively.
    for (const piece of header.split(/,(?=\s*[A-Za-z0-9_.-]+=)/)) {
      const first = piece.split(';')[0] ?? '';
      const eq = first.indexOf('=');
      if (eq <= 0) continue;
      out.set(first.slice(0, eq).trim(), first.slice(eq + 1).trim());
    }
  }
  return out;
}
