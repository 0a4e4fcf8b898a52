import type { AuditEvent } from "@pedigree/protocol";
import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditEvents } from "../db/schema";

type AuditInput = Omit<typeof auditEvents.$inferInsert, "id">;

/** Records who removed what, in the caller's transaction: the change and its event commit together or not at all. */
export async function appendAuditEvents(tx: Db, events: readonly AuditInput[]): Promise<void> {
  for (let start = 0; start < events.length; start += 1000) {
    await tx.insert(auditEvents).values(events.slice(start, start + 1000));
  }
}

/** A project's audit events, newest first (`(at, id)` descending), at most `limit`, before `before` when given. */
export async function listAuditEvents(
  db: Db,
  project: string,
  options: { limit: number; before?: { at: Date; id: number } },
): Promise<AuditEvent[]> {
  const { before } = options;
  const rows = await db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.project, project),
        before
          ? or(lt(auditEvents.at, before.at), and(eq(auditEvents.at, before.at), lt(auditEvents.id, before.id)))
          : undefined,
      ),
    )
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(options.limit);
  return rows.map((row) => ({
    id: row.id,
    project: row.project,
    action: row.action,
    actor: row.actorName,
    at: row.at.toISOString(),
    target: row.target,
    details: row.details,
  }));
}
