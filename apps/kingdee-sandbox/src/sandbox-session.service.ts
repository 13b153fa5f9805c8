import { randomBytes } from 'node:crypto';
import type { Clock } from '@libs/common';

export interface SandboxSession {
  id: string;
  aspNetId: string;
  username: string;
  lastUsed: number;
  /** Business calls handled (knob `sessionCallLimit`). */
  calls: number;
  /** Tail of the per-session queue (Kingdee handles one request per session at a time). */
  tail: Promise<void>;
}

/** Sessions with idle expiry, on-demand drops and per-session serialisation. */
export class SandboxSessions {
  private readonly sessions = new Map<string, SandboxSession>();

  constructor(
    private readonly clock: Clock,
    private readonly idleMs: () => number,
  ) {}

  create(username: string): SandboxSession {
    const session: SandboxSession = {
      id: randomBytes(16).toString('hex'),
      aspNetId: randomBytes(12).toString('base64url'),
      username,
      lastUsed: this.clock.now(),
      calls: 0,
      tail: Promise.resolve(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for an id (expired ones are removed), touching it. */
  get(id: string | undefined): SandboxSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.clock.now() - session.lastUsed > this.idleMs()) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastUsed = this.clock.now();
    return session;
  }

  /** Whether the id is one of these sessions (expired or not; nothing is touched). */
  has(id: string | undefined): boolean {
    return id !== undefined && this.sessions.has(id);
  }

  /** Still known (not dropped): a request queued behind a drop must not run on a dead session. */
  isLive(id: string): boolean {
    return this.sessions.has(id);
  }

  drop(id: string): void {
    this.sessions.delete(id);
  }

  dropAll(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  /** Live sessions (expired ones are not counted). */
  count(): number {
    const now = this.clock.now();
    let n = 0;
    for (const s of this.sessions.values()) if (now - s.lastUsed <= this.idleMs()) n += 1;
    return n;
  }

  /** Runs `fn` after every earlier request of the session has finished. */
  async serialise<T>(session: SandboxSession, fn: () => Promise<T>): Promise<T> {
    const previous = session.tail;
    let release!: () => void;
    session.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
