import { SandboxGatewayName } from './call-stats';

export interface AppKeyCallsEntry {
  calls: number;
  /** Most calls seen in any sliding window (t − windowMs, t] (t = the time of one of the calls). */
  maxInWindow: number;
  /** Calls refused by the app key's own limit ("too frequent"). */
  limited: number;
}

interface Track extends AppKeyCallsEntry {
  /** Call times inside the current window, oldest first, from `head` on. */
  times: number[];
  head: number;
  last: number;
}

/**
 * Calls per app key (what the real per-minute limit counts against: a native appkey, or a Qimen app
 * key across every sid it serves), with the exact maximum over every sliding window. A call counts the
 * moment it arrives, whatever happens to it afterwards (faults, rejections): the client made it.
 * Times are taken as non-decreasing (a clock stepping back counts at the last time seen).
 */
export class AppKeyCalls {
  private readonly tracks = new Map<string, Track>();

  record(gateway: SandboxGatewayName, appKey: string, atMs: number, windowMs: number): void {
    const track = this.track(gateway, appKey);
    const at = Math.max(atMs, track.last);
    track.last = at;
    track.calls += 1;
    track.times.push(at);
    while (track.times[track.head] <= at - windowMs) track.head += 1;
    if (track.head > 1024 && track.head * 2 > track.times.length) {
      track.times = track.times.slice(track.head);
      track.head = 0;
    }
    track.maxInWindow = Math.max(track.maxInWindow, track.times.length - track.head);
  }

  limitedCall(gateway: SandboxGatewayName, appKey: string): void {
    this.track(gateway, appKey).limited += 1;
  }

  get(gateway: SandboxGatewayName, appKey: string): AppKeyCallsEntry {
    const track = this.tracks.get(`${gateway}:${appKey}`);
    return { calls: track?.calls ?? 0, maxInWindow: track?.maxInWindow ?? 0, limited: track?.limited ?? 0 };
  }

  reset(): void {
    this.tracks.clear();
  }

  private track(gateway: SandboxGatewayName, appKey: string): Track {
    const key = `${gateway}:${appKey}`;
    let track = this.tracks.get(key);
    if (!track) {
      track = { calls: 0, maxInWindow: 0, limited: 0, times: [], head: 0, last: -Infinity };
      this.tracks.set(key, track);
    }
    return track;
  }
}
