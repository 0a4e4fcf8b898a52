import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { projects } from "../db/schema";

const BLOCK = 32;

/**
 * Hands out run ordinals (the N of `zesty-snowball-N`) from blocks reserved on the project row, like a
 * database sequence's cache. Reserving inside every run's transaction would hold the project row locked until
 * that commit reached the disk, so all the runs of a project would start one disk flush at a time. The price:
 * ordinals a server reserved but did not use before it stopped are skipped, and two servers interleave.
 */
export class RunOrdinals {
  private readonly blocks = new Map<string, { next: number; end: number }>();
  private readonly reserving = new Map<string, Promise<boolean>>();

  /** The next ordinal, or null when the project does not exist yet (its first run numbers itself). */
  async next(db: Database, project: string): Promise<number | null> {
    for (;;) {
      const block = this.blocks.get(project);
      if (block && block.next <= block.end) return block.next++;
      if (!(await this.reserve(db, project))) return null;
    }
  }

  private reserve(db: Database, project: string): Promise<boolean> {
    let pending = this.reserving.get(project);
    if (!pending) {
      pending = db
        .transaction(async (tx) => {
          const [row] = await tx
            .update(projects)
            .set({ runCount: sql`${projects.runCount} + ${BLOCK}` })
            .where(eq(projects.name, project))
            .returning({ end: projects.runCount });
          if (!row) return false;
          this.blocks.set(project, { next: row.end - BLOCK + 1, end: row.end });
          return true;
        })
        .finally(() => this.reserving.delete(project));
      this.reserving.set(project, pending);
    }
    return pending;
  }
}
