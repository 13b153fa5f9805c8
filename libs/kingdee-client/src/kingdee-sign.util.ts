import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KINGDEE_APP_SECRET_XOR_KEY } from './kingdee.constants';

/**
 * Pure signing functions shared by the client and the sandbox (which verifies with the same code).
 * Reference: kingdee-webapi.md, "Authentication".
 */

/** Ordinal (UTF-16 code unit) comparison, as C#'s String.CompareOrdinal. */
function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface LoginSignInput {
  acctId: string;
  username: string;
  appId: string;
  appSecret: string;
  /** Unix time in seconds, as text or number. */
  timestamp: string | number;
}

/**
 * LoginBySign's `sign`: lowercase hex SHA-256 (or SHA-1 on older patches) of the five strings
 * {acctId, username, appId, appSecret, timestamp} sorted ordinally and concatenated.
 */
export function computeLoginSign(input: LoginSignInput, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  const parts = [input.acctId, input.username, input.appId, input.appSecret, String(input.timestamp)];
  parts.sort(compareOrdinal);
  return createHash(algorithm).update(parts.join(''), 'utf8').digest('hex');
}

/** `base64( lowercase_hex( HMAC-SHA256(key, message) ) )` — the hex text is base64'd, as the SDK does. */
export function hmacSha256HexBase64(key: string, message: string): string {
  const hex = createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
  return Buffer.from(hex, 'utf8').toString('base64');
}

/** Splits an AppID `clientId_secPart`; null when it has not exactly two parts. */
export function splitAppId(appId: string): { clientId: string; secPart: string } | null {
  const parts = appId.split('_');
  if (parts.length !== 2) return null;
  return { clientId: parts[0], secPart: parts[1] };
}

/**
 * The client secret hidden in an AppID's second part:
 * `base64( base64decode(secPart) XOR ascii("0054f397c6234378b09ca7d3e5debce7") )`, byte i with key byte i.
 * The SDK only accepts a 32-character secPart (24 bytes); anything else yields "".
 */
export function deriveClientSecret(secPart: string): string {
  if (secPart.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(secPart)) return '';
  const decoded = Buffer.from(secPart, 'base64');
  const key = Buffer.from(KINGDEE_APP_SECRET_XOR_KEY, 'ascii');
  const out = Buffer.alloc(decoded.length);
  for (let i = 0; i < decoded.length; i += 1) out[i] = decoded[i] ^ key[i];
  return out.toString('base64');
}

/**
 * The request path as signed: Python's `urllib.parse.quote` (unreserved `A-Za-z0-9_.-~` kept, every other
 * UTF-8 byte %XX) with `/` also encoded as `%2F`.
 */
export function encodeSignaturePath(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.\-~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The path part (after scheme and host) of a request URL, as the server sees it. */
export function signaturePathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** `"POST\n" + encodedPath + "\n\nx-api-nonce:" + nonce + "\nx-api-timestamp:" + timestamp + "\n"`. */
export function apiSignatureString(encodedPath: string, nonce: string, timestamp: string): string {
  return `POST\n${encodedPath}\n\nx-api-nonce:${nonce}\nx-api-timestamp:${timestamp}\n`;
}

/** `acctId + "," + username + "," + lcid + "," + orgNumber`. */
export function buildAppData(
  acctId: string,
  username: string,
  lcid: number | string,
  orgNumber: string,
): string {
  return `${acctId},${username},${lcid},${orgNumber}`;
}

export interface ApiSignatureInput {
  /** Path after the host, unencoded (e.g. `/k3cloud/Kingdee.BOS....Save.common.kdsvc`). */
  path: string;
  appId: string;
  appSecret: string;
  acctId: string;
  username: string;
  lcid: number | string;
  orgNumber: string;
  /** Unix seconds as text. */
  timestamp: string;
  /** The SDK uses the timestamp as nonce. */
  nonce: string;
}

/** Header names of the SDK's "auth version 2.0" request signature. */
export const API_SIGNATURE_HEADERS = {
  clientId: 'X-Api-ClientID',
  authVersion: 'X-Api-Auth-Version',
  timestamp: 'X-Api-Timestamp',
  nonce: 'X-Api-Nonce',
  signHeaders: 'X-Api-SignHeaders',
  signature: 'X-Api-Signature',
  appKey: 'X-Kd-Appkey',
  appData: 'X-Kd-Appdata',
  kdSignature: 'X-Kd-Signature',
} as const;

/** All per-request signature headers for one call. */
export function buildApiSignatureHeaders(input: ApiSignatureInput): Record<string, string> {
  const split = splitAppId(input.appId);
  const clientId = split?.clientId ?? '';
  const clientSecret = split ? deriveClientSecret(split.secPart) : '';
  const toSign = apiSignatureString(encodeSignaturePath(input.path), input.nonce, input.timestamp);
  const appData = buildAppData(input.acctId, input.username, input.lcid, input.orgNumber);
  return {
    [API_SIGNATURE_HEADERS.clientId]: clientId,
    [API_SIGNATURE_HEADERS.authVersion]: '2.0',
    [API_SIGNATURE_HEADERS.timestamp]: input.timestamp,
    [API_SIGNATURE_HEADERS.nonce]: input.nonce,
    [API_SIGNATURE_HEADERS.signHeaders]: 'x-api-timestamp,x-api-nonce',
    [API_SIGNATURE_HEADERS.signature]: hmacSha256HexBase64(clientSecret, toSign),
    [API_SIGNATURE_HEADERS.appKey]: input.appId,
    [API_SIGNATURE_HEADERS.appData]: Buffer.from(appData, 'utf8').toString('base64'),
    [API_SIGNATURE_HEADERS.kdSignature]: hmacSha256HexBase64(input.appSecret, input.appId + appData),
  };
}

/** Constant-time comparison of two texts (false on different lengths). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
