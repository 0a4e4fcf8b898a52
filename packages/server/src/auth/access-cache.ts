import type { Role } from "@pedigree/protocol";

/**
 * Remembers, for a few seconds, the role a user holds in an existing project, so the project gate does not
 * query on every request. Member changes made by this process forget the project at once (`forget`), and a
 * look-up that raced such a change is not remembered; another server process sharing the database is
 * noticed within `ttlMs`, as with `ApiKeyCache`. Projects that do not exist yet are never remembered.
 */
export class ProjectAccessCache {
  private readonly entries = new Map<string, { role: Role | null; expiresAt: number }>();
  private generation = 0;

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached role (null: no role) of `userId` in `project`, or undefined when it must be looked up. */
  get(userId: string, project: string, now: number): { role: Role | null } | undefined {
    const key = keyOf(userId, project);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return { role: entry.role };
  }

  /** Stamp to pass to `set`: a `forget` between the two drops the look-up's answer. */
  stamp(): number {
    return this.generation;
  }

  set(userId: string, project: string, role: Role | null, now: number, stamp: number): void {
    if (stamp !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(keyOf(userId, project), { role, expiresAt: now + this.ttlMs });
  }

  /** Forgets every cached role in `project`: call after its members change. */
  forget(project: string): void {
    this.generation += 1;
    for (const key of this.entries.keys()) if (key.endsWith(`\u0000${project}`)) this.entries.delete(key);
  }
}

const keyOf = (userId: string, project: string) => `${userId}\u0000${project}`;
