import type { Actor } from "./actor";

/**
 * Remembers recently authenticated keys for a few seconds so every request does not pay a database look-up.
 * Each entry keeps its key's own `expiresAt`, checked against the clock on every request, so an expiring key
 * is refused from its expiry on, cached or not. Revoking a key in this process forgets it at once
 * (`forget`); another server process sharing the database notices within `ttlMs`.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { actor: Actor; cachedUntil: number; keyExpiresAt: number | null }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(keyHash: string, now: number): Actor | undefined {
    const entry = this.entries.get(keyHash);
    if (!entry) return undefined;
    if (entry.cachedUntil <= now || (entry.keyExpiresAt !== null && entry.keyExpiresAt <= now)) {
      this.entries.delete(keyHash);
      return undefined;
    }
    return entry.actor;
  }

  /** `keyExpiresAt`: the key's own expiry (ms since the epoch), null for a key that never expires. */
  set(keyHash: string, actor: Actor, keyExpiresAt: number | null, now: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(keyHash, { actor, cachedUntil: now + this.ttlMs, keyExpiresAt });
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
