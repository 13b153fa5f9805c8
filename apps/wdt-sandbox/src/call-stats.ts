export type SandboxGatewayName = 'native' | 'qimen';

export interface RecentRequest {
  gateway: SandboxGatewayName;
  at: string;
  /** Params as received (`sign` included; secrets are never sent, so never here). */
  params: Record<string, string>;
  outcome: string;
}

export interface CallStatsSnapshot {
  calls: Record<SandboxGatewayName, number>;
  accepted: Record<SandboxGatewayName, number>;
  rejections: Record<SandboxGatewayName, Record<string, number>>;
  faults: Record<'http_5xx' | 'timeout' | 'malformed' | 'corrupted', number>;
  adminCalls: number;
  /** Per sid: gateway calls naming it (known sids only) and accepted pages. */
  bySid: Record<string, { calls: number; accepted: number }>;
}

/** Counters per gateway: calls, accepted pages, rejections by reason, injected faults. */
export class CallStats {
  private data: CallStatsSnapshot = CallStats.empty();
  private recent: RecentRequest[] = [];

  constructor(private readonly keepRecent = 200) {}

  static empty(): CallStatsSnapshot {
    return {
      calls: { native: 0, qimen: 0 },
      accepted: { native: 0, qimen: 0 },
      rejections: { native: {}, qimen: {} },
      faults: { http_5xx: 0, timeout: 0, malformed: 0, corrupted: 0 },
      adminCalls: 0,
      bySid: {},
    };
  }

  call(gateway: SandboxGatewayName): void {
    this.data.calls[gateway] += 1;
  }

  accepted(gateway: SandboxGatewayName, sid?: string): void {
    this.data.accepted[gateway] += 1;
    if (sid !== undefined) this.sid(sid).accepted += 1;
  }

  /** A gateway call naming a known sid. */
  sidCall(sid: string): void {
    this.sid(sid).calls += 1;
  }

  private sid(sid: string): { calls: number; accepted: number } {
    return (this.data.bySid[sid] ??= { calls: 0, accepted: 0 });
  }

  rejected(gateway: SandboxGatewayName, reason: string): void {
    const bucket = this.data.rejections[gateway];
    bucket[reason] = (bucket[reason] ?? 0) + 1;
  }

  fault(kind: keyof CallStatsSnapshot['faults']): void {
    this.data.faults[kind] += 1;
  }

  admin(): void {
    this.data.adminCalls += 1;
  }

  remember(request: RecentRequest): void {
    this.recent.push(request);
    if (this.recent.length > this.keepRecent) this.recent.splice(0, this.recent.length - this.keepRecent);
  }

  recentRequests(limit = 50): RecentRequest[] {
    return structuredClone(this.recent.slice(-limit));
  }

  snapshot(): CallStatsSnapshot {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = CallStats.empty();
    this.recent = [];
  }
}
