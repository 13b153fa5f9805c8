/**
 * What a service's own work reports about its readiness beyond Kafka and Postgres: e.g. the
 * extractor when WDT refuses its credentials, the loader when Kingdee refuses its login. `/ready`
 * answers 503 with the reason while any check fails, and 200 again once the work reports success.
 * Reasons name the system and its error code, never a secret.
 */
export class Readiness {
  private readonly failing = new Map<string, string>();

  fail(check: string, reason: string): void {
    this.failing.set(check, reason);
  }

  ok(check: string): void {
    this.failing.delete(check);
  }

  /** Failing checks and their reasons. */
  failures(): Record<string, string> {
    return Object.fromEntries(this.failing);
  }
}
