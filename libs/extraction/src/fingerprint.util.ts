import { createHash } from 'node:crypto';

/**
 * Identifies one version of a WDT record: md5_str and modified as WDT reports them, plus a hash of
 * the whole record, so a change WDT does not reflect in md5_str/modified is still noticed.
 */
export function fingerprintRecord(record: Record<string, unknown>): string {
  const md5 = typeof record.md5_str === 'string' ? record.md5_str : '';
  const modified = typeof record.modified === 'string' ? record.modified : '';
  const hash = createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 32);
  return `${md5}|${modified}|${hash}`;
}
