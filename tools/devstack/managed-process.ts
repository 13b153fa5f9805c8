import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface ProcessSpec {
  name: string;
  /** Script run with the current Node binary. */
  script: string;
  /** Node flags before the script (as the image's command gives them). */
  nodeFlags?: string[];
  env: Record<string, string>;
  logFile: string;
  /** URL that answers 2xx once the process is ready. */
  readyUrl: string;
}

/**
 * One service or sandbox run as its own OS process (as in production), output to a log file,
 * stopped with SIGTERM (graceful) and SIGKILL after a grace period.
 */
export class ManagedProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    this.log = createWriteStream(this.spec.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [...(this.spec.nodeFlags ?? []), this.spec.script], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child = child;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(`${this.spec.name} exited during start-up; see ${this.spec.logFile}`);
      try {
        const res = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `${this.spec.name} not ready at ${this.spec.readyUrl} within ${timeoutMs} ms; see ${this.spec.logFile}`,
    );
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs`. Resolves true when the process shut down by itself (exit
   * code 0, or Nest's re-raised SIGTERM after its shutdown hooks ran), false when it had to be killed.
   */
  async stop(graceMs = 20_000): Promise<boolean> {
    if (!this.child || !this.running) {
      this.log?.end();
      return true;
    }
    this.child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child?.kill('SIGKILL');
    }, graceMs);
    const { code, signal } = await this.exited!;
    clearTimeout(timer);
    this.log?.end();
    return !killed && (code === 0 || signal === 'SIGTERM');
  }

  /** Simulates a crash: no graceful shutdown, nothing committed that was not already. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
