import type { Actor } from "./actor";

/**
 * Remembers recently authenticated keys for a few seconds so every request does not pay a database look-up.
 * Revoking a key in this process forgets it at once (`forget`, called by the revoking route); another server
 * process sharing the database notices within `ttlMs`.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { actor: Actor; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(keyHash: string, now: number): Actor | undefined {
    const entry = this.entries.get(keyHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(keyHash);
      return undefined;
    }
    return entry.actor;
  }

  set(keyHash: string, actor: Actor, now: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(keyHash, { actor, expiresAt: now + this.ttlMs });
  }

  /** Forgets every cached key of `userId` (all users when not given): call after revoking keys or changing roles. */
  forget(userId?: string): void {
    if (userId === undefined) {
      this.entries.clear();
      return;
    }
    for (const [hash, entry] of this.entries) if (entry.actor.userId === userId) this.entries.delete(hash);
  }
}
