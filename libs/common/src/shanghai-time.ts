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

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;
const WALL_CLOCK_MS = /^(\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d{1,9}))?$/;

/**
 * A time as a person types it: `yyyy-MM-dd HH:mm:ss` (or `yyyy-MM-dd`, or ISO 8601 without an offset), meaning
 * Shanghai wall-clock, or ISO 8601 with an offset (`…Z`, `…+08:00`). Returns epoch ms, or undefined
 * when the text is no such time (including impossible dates). Independent of the host's TZ.
 */
export function parseTimeInput(text: string): number | undefined {
  const trimmed = text.trim();
  const wall = WALL_CLOCK_MS.exec(trimmed);
  if (wall) {
    const ms = parseShanghai(wall[1]);
    return ms === undefined ? undefined : ms + fraction(wall[2]);
  }
  const iso = ISO_WITH_OFFSET.exec(trimmed);
  if (!iso) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac, zone] = iso;
  const local = parseShanghai(`${y}-${mo}-${d} ${h}:${mi}:${s.padStart(2, '0')}`);
  if (local === undefined) return undefined;
  let offsetMs = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return undefined;
    offsetMs = (digits.startsWith('-') ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  // `local` read the fields as Shanghai time; shift to what they mean at the given offset.
  return local + SHANGHAI_OFFSET_MS - offsetMs + fraction(frac);
}

function fraction(digits: string | undefined): number {
  return digits ? Math.floor(Number(`0.${digits}`) * 1000) : 0;
}

/** Formats epoch ms as ISO 8601 in Shanghai time with its offset: `2026-12-04T19:20:00.000+08:00`. */
export function formatShanghaiIso(epochMs: number): string {
  const shifted = new Date(epochMs + SHANGHAI_OFFSET_MS).toISOString();
  return `${shifted.slice(0, -1)}+08:00`;
}
