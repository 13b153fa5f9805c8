/** Reads the three body dialects the real server accepts. */

export type BodyDialect = 'named' | 'positional' | 'legacy';

export interface ParsedEnvelope {
  dialect: BodyDialect;
  positional: unknown[];
  named: Record<string, unknown>;
}

/** A malformed request body; answered with MsgCode 8 (parameter error). */
export class BodyError extends Error {
  override readonly name = 'BodyError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * - named: `{"formid":"PUR_MRB","data":{…}}`;
 * - positional: `{"parameters":["PUR_MRB","{…}"]}`;
 * - legacy: `{"format":1,"useragent":"ApiClient","rid":…,"parameters":"[…]","timestamp":…,"v":"1.0"}`.
 */
export function parseEnvelope(text: string): ParsedEnvelope {
  let json: unknown;
  try {
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new BodyError('请求报文不是有效的 JSON');
  }
  if (!isObject(json)) throw new BodyError('请求报文应为 JSON 对象');
  const parameters = json.parameters ?? json.Parameters;
  if (typeof parameters === 'string') {
    let inner: unknown;
    try {
      inner = JSON.parse(parameters);
    } catch {
      throw new BodyError('parameters 不是有效的 JSON 数组');
    }
    if (!Array.isArray(inner)) throw new BodyError('parameters 应为数组');
    return { dialect: 'legacy', positional: inner, named: {} };
  }
  if (Array.isArray(parameters)) return { dialect: 'positional', positional: parameters, named: {} };
  return { dialect: 'named', positional: [], named: json };
}

/** Parameter by position (positional/legacy) or by case-insensitive name (named). */
export function param(envelope: ParsedEnvelope, index: number, ...names: string[]): unknown {
  if (envelope.dialect !== 'named') return envelope.positional[index];
  for (const name of names) {
    const lower = name.toLowerCase();
    const key = Object.keys(envelope.named).find((k) => k.toLowerCase() === lower);
    if (key !== undefined) return envelope.named[key];
  }
  return undefined;
}

/** A `data` parameter: an object, or a JSON string of one. */
export function dataParam(value: unknown): Record<string, unknown> {
  if (isObject(value)) return value;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return parsed;
    } catch {
      // fall through
    }
  }
  throw new BodyError('data 参数缺失或格式不正确');
}

/** Booleans as sent by SDKs: true/"true"/"True"/1. */
export function boolParam(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.trim().toLowerCase() === 'true' || value.trim() === '1';
  return fallback;
}

/** Case-insensitive read of a key of a data object. */
export function dataField(data: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  const key = Object.keys(data).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : data[key];
}
