/**
 * WDT speaks Asia/Shanghai wall-clock strings without a zone ("2026-11-28 01:30:00"). China has had
 * no daylight saving since 1991, so the zone is a fixed UTC+8 and conversion is plain arithmetic —
 * independent of the host's TZ, which is the point: never use `new Date(string)` on these.
 */
export const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** Parses `yyyy-MM-dd[ HH:mm[:ss]]` as Shanghai wall-clock time; returns epoch ms or undefined. */
export function parseShanghai(text: string): number | undefined {
  const m = WALL_CLOCK.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [
    m[1],
    m[2],
    m[3],
    m[4] ?? '0',
    m[5] ?? '0',
    m[6] ?? '0',
  ].map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Reject rollovers such as 2026-02-30.
  const back = new Date(utc);
  if (back.getUTCDate() !== day || back.getUTCMonth() !== month - 1) return undefined;
  return utc - SHANGHAI_OFFSET_MS;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Formats epoch ms as `yyyy-MM-dd HH:mm:ss` in Shanghai wall-clock time. */
export function formatShanghai(epochMs: number): string {
  const d = new Date(Math.floor(epochMs / 1000) * 1000 + SHANGHAI_OFFSET_MS);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** Formats epoch ms as `yyyy-MM-dd` (the Shanghai calendar date). */
export function formatShanghaiDate(epochMs: number): string {
  return formatShanghai(epochMs).slice(0, 10);
}
