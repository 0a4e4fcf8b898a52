import type { ProjectSummary } from "@pedigree/protocol";
import { eq, sql } from "drizzle-orm";
import type { Db } from "./db/client";
import { projects } from "./db/schema";
import { notFound } from "./errors";

/** Projects come into being on first write, as in W&B. */
export async function ensureProject(db: Db, name: string): Promise<void> {
  await db.insert(projects).values({ name }).onConflictDoNothing();
}

export async function requireProject(db: Db, name: string): Promise<void> {
  const [row] = await db.select({ name: projects.name }).from(projects).where(eq(projects.name, name));
  if (!row) throw notFound(`project '${name}'`, "project");
}

export async function listProjects(db: Db): Promise<ProjectSummary[]> {
  const rows = await db
    .select({
      name: projects.name,
      createdAt: projects.createdAt,
      // Written out in full: drizzle leaves columns in a sql template unqualified, which a subquery would misread.
      runCount: sql<number>`(select count(*)::int from runs where runs.project = projects.name)`,
      artifactCount: sql<number>`(select count(*)::int from artifacts where artifacts.project = projects.name)`,
    })
    .from(projects)
    .orderBy(projects.name);
  return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
}
