import { PII_FIELDS, type PiiField } from '@libs/contracts';

/**
 * Masking of the personal data WDT records carry (receiver name, phones, address, area, zip) for
 * operator API answers: `张**`, `138****5678`, `广东省深圳市***`. Works on objects at any depth
 * (a raw event's `record`, a history event) and on JSON held in strings (dead-letter payloads).
 */

export { PII_FIELDS };
export type { PiiField };

const PII_SET: ReadonlySet<string> = new Set(PII_FIELDS);

export function isPiiField(key: string): key is PiiField {
  return PII_SET.has(key);
}

/** `张三丰` → `张**`. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  return chars.length === 0 ? '' : `${chars[0]}**`;
}

/** `13812345678` → `138****5678`; `010-12345678` → `010****5678`; short numbers → `****`. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length === 0) return phone.trim() === '' ? '' : '****';
  return digits.length >= 7 ? `${digits.slice(0, 3)}****${digits.slice(-4)}` : '****';
}

const PROVINCE = /^(北京市|天津市|上海市|重庆市|北京|天津|上海|重庆|[^\d\s]{1,10}?(?:省|自治区|特别行政区))/u;
const CITY = /^([^\d\s]{1,10}?(?:市|自治州|地区|盟))/u;

/** The leading `省 + 市` of a Chinese address (spaces ignored), or '' when it has none. */
export function provinceAndCity(address: string): string {
  const compact = address.replace(/\s+/g, '');
  const province = PROVINCE.exec(compact)?.[1];
  if (!province) return '';
  const rest = compact.slice(province.length);
  const city = CITY.exec(rest)?.[1] ?? '';
  return province + city;
}

/** `广东省深圳市南山区科技园1号` → `广东省深圳市***`; `fallbackPrefix` when the text has no province. */
export function maskAddress(address: string, fallbackPrefix = ''): string {
  if (address.trim() === '') return '';
  return `${provinceAndCity(address) || fallbackPrefix}***`;
}

/** `518000` → `51****`. */
export function maskZip(zip: string): string {
  const z = zip.trim();
  return z === '' ? '' : `${z.slice(0, 2)}****`;
}

/** Masks one PII field's value; `siblings` (the object it sits in) may supply province/city. */
export function maskPiiValue(field: PiiField, value: unknown, siblings?: Record<string, unknown>): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object') return '***';
  const text = String(value);
  switch (field) {
    case 'receiver_name':
      return maskName(text);
    case 'receiver_mobile':
    case 'receiver_telno':
      return maskPhone(text);
    case 'receiver_zip':
      return maskZip(text);
    case 'receiver_address':
    case 'receiver_area': {
      const province = typeof siblings?.receiver_province === 'string' ? siblings.receiver_province : '';
      const city = typeof siblings?.receiver_city === 'string' ? siblings.receiver_city : '';
      return maskAddress(text, province ? `${province}${city}` : '');
    }
  }
}

const PII_IN_TEXT = new RegExp(`"(${PII_FIELDS.join('|')})"(\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`, 'g');

/** Masks `"receiver_x": "…"` pairs in text that is not (or not entirely) parseable JSON. */
export function maskPiiText(text: string): string {
  return text.replace(PII_IN_TEXT, (_m, field: PiiField, sep: string, raw: string) => {
    let value: string;
    try {
      value = JSON.parse(`"${raw}"`) as string;
    } catch {
      value = raw;
    }
    return `"${field}"${sep}${JSON.stringify(maskPiiValue(field, value))}`;
  });
}

const MAY_HOLD_PII = /receiver_(name|mobile|telno|address|area|zip)/;

/** A string holding JSON is parsed, masked and re-serialised; other text gets `maskPiiText`. */
function maskString(text: string): string {
  if (!MAY_HOLD_PII.test(text)) return text;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(maskPii(JSON.parse(text) as unknown));
    } catch {
      /* not JSON after all: fall through to the text masking */
    }
  }
  return maskPiiText(text);
}

/**
 * A deep copy of `value` with every PII field masked (objects, arrays, JSON inside strings);
 * `extraKeys` are keys masked too (target fields a scheme maps personal data into).
 */
export function maskPii<T>(value: T, extraKeys: ReadonlySet<string> = new Set()): T {
  return walk(value, extraKeys) as T;
}

function maskOpaque(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v))
    return Object.fromEntries(Object.keys(v).map((k) => [k, '***']));
  return '***';
}

function walk(value: unknown, extra: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return maskString(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, extra));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  if (value && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(source))
      out[key] = isPiiField(key)
        ? maskPiiValue(key, v, source)
        : extra.has(key)
          ? maskOpaque(v)
          : walk(v, extra);
    return out;
  }
  return value;
}
