import { createHash } from 'node:crypto';

/**
 * A UUID (version 8, RFC 9562 custom) derived from its parts, so an event re-produced after a crash
 * or redelivery gets the same id and downstream upserts absorb it.
 */
export function deterministicUuid(...parts: Array<string | number>): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6] & 0x0f) | 0x80;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
