import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { projects } from "../db/schema";
import { ensureProject } from "../projects";

const BLOCK = 32;

/**
 * Hands out run ordinals (the N of `zesty-snowball-N`) from blocks reserved on the project row, like a
 * database sequence's cache. Reserving inside every run's transaction would hold the project row locked until
 * that commit reached the disk, so all the runs of a project would start one disk flush at a time. The price:
 * ordinals a server reserved but did not use before it stopped are skipped, and two servers interleave.
 */
export class RunOrdinals {
  private readonly blocks = new Map<string, { next: number; end: number }>();
  private readonly reserving = new Map<string, Promise<void>>();

  async next(db: Database, project: string): Promise<number> {
    for (;;) {
      const block = this.blocks.get(project);
      if (block && block.next <= block.end) return block.next++;
      await this.reserve(db, project);
    }
  }

  private reserve(db: Database, project: string): Promise<void> {
    let pending = this.reserving.get(project);
    if (!pending) {
      pending = db
        .transaction(async (tx) => {
          await ensureProject(tx, project);
          const [row] = await tx
            .update(projects)
            .set({ runCount: sql`${projects.runCount} + ${BLOCK}` })
            .where(eq(projects.name, project))
            .returning({ end: projects.runCount });
          const end = row?.end ?? BLOCK;
          this.blocks.set(project, { next: end - BLOCK + 1, end });
        })
        .finally(() => this.reserving.delete(project));
      this.reserving.set(project, pending);
    }
    return pending;
  }
}
