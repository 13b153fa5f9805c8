// Every time the console shows is Shanghai wall-clock (+08:00), whatever the browser's zone: the
// operators, WDT and Kingdee all work in it.
import dayjs, { type Dayjs } from 'dayjs';
import utc from 'dayjs/plugin/utc';

dayjs.extend(utc);

export const SHANGHAI_OFFSET_MINUTES = 480;

export function toShanghai(value: string | number | Date | Dayjs): Dayjs {
  return dayjs(value).utcOffset(SHANGHAI_OFFSET_MINUTES);
}

/** `2026-11-28 14:03:05`, or '—' for nothing / garbage. */
export function formatTime(value: string | number | Date | null | undefined, withSeconds = true): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = dayjs(value);
  if (!d.isValid()) return String(value);
  return d
    .utcOffset(SHANGHAI_OFFSET_MINUTES)
    .format(withSeconds ? 'YYYY-MM-DD HH:mm:ss' : 'YYYY-MM-DD HH:mm');
}

/**
 * A Shanghai wall-clock value as WDT and the cursor hold it (`2026-11-28 14:03:05`, no offset):
 * shown as it is — parsing it would read it in the browser's zone.
 */
export function formatWallClock(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(value.trim());
  return m ? `${m[1]} ${m[2]}` : formatTime(value);
}

/** The API's time format: ISO 8601 with +08:00. */
export function toApiTime(value: string | number | Date | Dayjs): string {
  return toShanghai(value).format('YYYY-MM-DDTHH:mm:ssZ');
}

/** `45s`, `3m 20s`, `2h 5m`, `3d 4h` — lag and ages. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`.replace(/ 0s$/, '');
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`.replace(/ 0m$/, '');
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`.replace(/ 0h$/, '');
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms / 1000);
}

export type Bucket = '1m' | '5m' | '1h';

/** A bucket that keeps a chart at a readable number of points (≤ ~300). */
export function bucketFor(fromMs: number, toMs: number): Bucket {
  const minutes = (toMs - fromMs) / 60_000;
  if (minutes <= 300) return '1m';
  if (minutes <= 1500) return '5m';
  return '1h';
}

export const RANGE_PRESETS = ['1h', '6h', '24h', '7d'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

export function presetRange(preset: RangePreset, nowMs: number): [number, number] {
  const hours = { '1h': 1, '6h': 6, '24h': 24, '7d': 168 }[preset];
  return [nowMs - hours * 3_600_000, nowMs];
}
