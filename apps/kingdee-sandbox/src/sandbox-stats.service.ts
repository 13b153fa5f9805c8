/** Call statistics for benchmarks and tests (GET /admin/stats). */
export type SandboxOutcome =
  | 'ok'
  | 'business_error'
  | 'lost_session'
  | 'auth_failed'
  | 'throttled'
  | 'http_5xx'
  | 'lost_response'
  | 'truncated_reply'
  | 'bad_request';

export interface SandboxStatsSnapshot {
  requests: number;
  byService: Record<string, Partial<Record<SandboxOutcome, number>>>;
  logins: number;
  billsCreated: number;
  billsUpdated: number;
  modelsRejected: number;
  inFlight: number;
  maxInFlight: number;
  /** Highest number of requests of one session handled at the same time (1 when serialised). */
  maxInFlightPerSession: number;
  /** Highest number of distinct sessions with a business call in progress at the same time. */
  maxSessionsInUse: number;
  /** Highest number of requests of each service (e.g. `DynamicFormService.BatchSave`) at the same time. */
  maxInFlightByService: Record<string, number>;
}

export class SandboxStats {
  private data: SandboxStatsSnapshot = SandboxStats.empty();

  private static empty(): SandboxStatsSnapshot {
    return {
      requests: 0,
      byService: {},
      logins: 0,
      billsCreated: 0,
      billsUpdated: 0,
      modelsRejected: 0,
      inFlight: 0,
      maxInFlight: 0,
      maxInFlightPerSession: 0,
      maxSessionsInUse: 0,
      maxInFlightByService: {},
    };
  }

  private readonly perSession = new Map<string, number>();
  private readonly perService = new Map<string, number>();

  begin(service?: string): void {
    this.data.requests += 1;
    this.data.inFlight += 1;
    this.data.maxInFlight = Math.max(this.data.maxInFlight, this.data.inFlight);
    if (service === undefined) return;
    const n = (this.perService.get(service) ?? 0) + 1;
    this.perService.set(service, n);
    this.data.maxInFlightByService[service] = Math.max(this.data.maxInFlightByService[service] ?? 0, n);
  }

  end(service?: string): void {
    this.data.inFlight = Math.max(0, this.data.inFlight - 1);
    if (service === undefined) return;
    const n = (this.perService.get(service) ?? 1) - 1;
    if (n <= 0) this.perService.delete(service);
    else this.perService.set(service, n);
  }

  enterSession(sid: string): void {
    const n = (this.perSession.get(sid) ?? 0) + 1;
    this.perSession.set(sid, n);
    this.data.maxInFlightPerSession = Math.max(this.data.maxInFlightPerSession, n);
    this.data.maxSessionsInUse = Math.max(this.data.maxSessionsInUse, this.perSession.size);
  }

  leaveSession(sid: string): void {
    const n = (this.perSession.get(sid) ?? 1) - 1;
    if (n <= 0) this.perSession.delete(sid);
    else this.perSession.set(sid, n);
  }

  record(service: string, outcome: SandboxOutcome): void {
    const entry = (this.data.byService[service] ??= {});
    entry[outcome] = (entry[outcome] ?? 0) + 1;
  }

  login(): void {
    this.data.logins += 1;
  }

  created(n = 1): void {
    this.data.billsCreated += n;
  }

  updated(n = 1): void {
    this.data.billsUpdated += n;
  }

  rejected(n = 1): void {
    this.data.modelsRejected += n;
  }

  snapshot(): SandboxStatsSnapshot {
    return structuredClone(this.data);
  }

  reset(): void {
    const inFlight = this.data.inFlight;
    this.data = SandboxStats.empty();
    this.data.inFlight = inFlight;
  }
}
