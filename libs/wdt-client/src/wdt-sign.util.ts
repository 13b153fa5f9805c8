import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signing for both WDT gateways. Everything here is pure (no clock, no I/O) so the client and the
 * sandbox share the same packing code, and tests can pin vectors.
 */

/** Parameters as they go on the wire: string values; `undefined`/`null` mean "not sent". */
export type WireParams = Readonly<Record<string, string | undefined | null>>;

/** Counts Unicode code points (what PHP's `iconv_strlen(…, 'UTF-8')` counts), not bytes or UTF-16 units. */
export function codePointLength(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/** UTF-8 byte length. Exists only so a test can show that byte-length packing is rejected. */
export function utf8ByteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Compares keys in byte order (UTF-8), the order PHP's `ksort` gives ASCII keys. */
export function compareKeysByteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const isEmpty = (value: string | undefined | null): value is undefined | null | '' =>
  value === undefined || value === null || value === '';

/** Drops params that must not be sent (undefined, null, empty string). */
export function omitEmptyParams(params: WireParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!isEmpty(value)) out[key] = value;
  }
  return out;
}

const padLength = (length: number, width: number): string => String(length).padStart(width, '0');

export interface NativePackOptions {
  /**
   * Pack empty values as `0000-` instead of skipping them. The client never sends empty params (so
   * never packs them); the server side packs whatever it received, which is what this is for.
   */
  includeEmpty?: boolean;
  /** Length function for the value; defaults to code points. Only tests pass anything else. */
  lengthOf?: (value: string) => number;
}

/**
 * WDT 企业版 native packing: params except `sign`, sorted by key (byte order), each as
 * `%02d-key:%04d-value` (lengths in code points; longer values keep their real length), joined by `;`.
 */
export function packNativeParams(params: WireParams, options: NativePackOptions = {}): string {
  const lengthOf = options.lengthOf ?? codePointLength;
  return Object.keys(params)
    .filter((key) => key !== 'sign')
    .filter((key) => options.includeEmpty || !isEmpty(params[key]))
    .sort(compareKeysByteOrder)
    .map((key) => {
      const value = params[key] ?? '';
      return `${padLength(lengthOf(key), 2)}-${key}:${padLength(lengthOf(value), 4)}-${value}`;
    })
    .join(';');
}

/**
 * A deliberately WRONG packer that counts UTF-8 bytes, as several public clients do. It agrees with
 * the real packer on ASCII and breaks on Chinese text. Used only by tests to prove the server rejects it.
 */
export function packNativeParamsByByteLength(params: WireParams, options: NativePackOptions = {}): string {
  return packNativeParams(params, { ...options, lengthOf: utf8ByteLength });
}

export const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** Native sign: `md5(packed + appsecret)`, 32 lowercase hex characters. */
export function nativeSign(
  params: WireParams,
  appsecret: string,
  packer: (params: WireParams, options?: NativePackOptions) => string = packNativeParams,
  packOptions: NativePackOptions = {},
): string {
  return md5Hex(packer(params, packOptions) + appsecret);
}

export type TopSignMethod = 'md5' | 'hmac';

/** TOP signing base string: params except `sign`, sorted by key, `key + value` for non-empty values. */
export function topSignBaseString(params: WireParams, body?: string): string {
  const joined = Object.keys(params)
    .filter((key) => key !== 'sign' && !isEmpty(params[key]))
    .sort(compareKeysByteOrder)
    .map((key) => `${key}${params[key] as string}`)
    .join('');
  return body ? joined + body : joined;
}

/** TOP signature: md5 → `MD5(secret + base + secret)`, hmac → `HMAC-MD5(secret, base)`; uppercase hex. */
export function topSign(params: WireParams, secret: string, method: TopSignMethod, body?: string): string {
  const base = topSignBaseString(params, body);
  const digest =
    method === 'hmac'
      ? createHmac('md5', secret).update(base, 'utf8').digest('hex')
      : createHash('md5')
          .update(secret + base + secret, 'utf8')
          .digest('hex');
  return digest.toUpperCase();
}

/** Constant-time comparison of two hex signatures (case-insensitive). */
export function signaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
