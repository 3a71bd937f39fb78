import { tracked, type OrtSession } from './runtime.ts';

/**
 * onnxruntime sessions by key (one graph per input shape), the least recently used released
 * once more than `kept` are held: each holds its graph's weights and working memory.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<OrtSession>>();

  constructor(private readonly kept: number) {}

  get(key: string, create: () => Promise<OrtSession>): Promise<OrtSession> {
    let session = this.sessions.get(key);
    if (session) {
      this.sessions.delete(key);
      this.sessions.set(key, session);
      return session;
    }
    session = create();
    this.sessions.set(key, session);
    while (this.sessions.size > this.kept) {
      const [oldest, evicted] = this.sessions.entries().next().value!;
      this.sessions.delete(oldest);
      release(evicted);
    }
    return session;
  }

  held(): Promise<OrtSession>[] {
    return [...this.sessions.values()];
  }

  /** Releases every session's native memory; a run still in flight finishes first. */
  dispose(): void {
    for (const session of this.sessions.values()) release(session);
    this.sessions.clear();
  }
}

function release(session: Promise<OrtSession>): void {
  void tracked(session.then((s) => s.release(), () => undefined));
}
