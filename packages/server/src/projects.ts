import type { ProjectMember, ProjectSummary, Role } from "@pedigree/protocol";
import { and, eq, exists, ne, sql } from "drizzle-orm";
import { claimProject } from "./auth/access";
import type { Actor } from "./auth/actor";
import { requireUserByName } from "./auth/users";
import type { Db } from "./db/client";
import { artifacts, projectMembers, projects, runs, users } from "./db/schema";
import { conflict, notFound } from "./errors";
import type { WriteContext } from "./write-context";

/** Projects come into being on first write, as in W&B; the first writer becomes the project's admin. */
export async function ensureProject(
  tx: Db,
  ctx: Pick<WriteContext, "project" | "actor" | "claimsProject" | "projectExists">,
) {
  if (ctx.projectExists) return;
  await claimProject(tx, ctx.project, ctx.actor, { claimsProject: ctx.claimsProject ?? false });
}

export async function requireProject(db: Db, name: string): Promise<void> {
  const [row] = await db.select({ name: projects.name }).from(projects).where(eq(projects.name, name));
  if (!row) throw notFound(`project '${name}'`, "project");
}

/** The projects `actor` can see: all of them for a server admin, those it has a role in otherwise. */
export async function listProjects(db: Db, actor: Pick<Actor, "userId" | "isAdmin">): Promise<ProjectSummary[]> {
  const visible = actor.isAdmin
    ? undefined
    : exists(
        db
          .select({ one: sql`1` })
          .from(projectMembers)
          .where(and(eq(projectMembers.project, projects.name), eq(projectMembers.userId, actor.userId))),
      );
  const rows = await db
    .select({
      name: projects.name,
      createdAt: projects.createdAt,
      runCount: db.$count(runs, eq(runs.project, projects.name)),
      artifactCount: db.$count(artifacts, eq(artifacts.project, projects.name)),
    })
    .from(projects)
    .where(visible)
    .orderBy(projects.name);
  return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
}

export async function listMembers(db: Db, project: string): Promise<ProjectMember[]> {
  const rows = await db
    .select({ user: users.name, userId: users.id, role: projectMembers.role, addedAt: projectMembers.createdAt })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(eq(projectMembers.project, project))
    .orderBy(users.name);
  return rows.map((row) => ({ ...row, addedAt: row.addedAt.toISOString() }));
}

/** Gives `userName` `role` in `project` (adding or changing it). The last admin cannot step down. */
export async function setMember(tx: Db, project: string, userName: string, role: Role): Promise<ProjectMember> {
  const user = await requireUserByName(tx, userName);
  await lockProject(tx, project);
  if (role !== "admin") await keepAnAdmin(tx, project, user.id);
  await tx
    .insert(projectMembers)
    .values({ project, userId: user.id, role })
    .onConflictDoUpdate({ target: [projectMembers.project, projectMembers.userId], set: { role } });
  const member = (await listMembers(tx, project)).find((row) => row.userId === user.id);
  if (!member) throw new Error("member row vanished inside its transaction");
  return member;
}

export async function removeMember(tx: Db, project: string, userName: string): Promise<void> {
  const user = await requireUserByName(tx, userName);
  await lockProject(tx, project);
  await keepAnAdmin(tx, project, user.id);
  const removed = await tx
    .delete(projectMembers)
    .where(and(eq(projectMembers.project, project), eq(projectMembers.userId, user.id)))
    .returning();
  if (removed.length === 0) throw notFound(`member '${userName}' of project '${project}'`, "user");
}

/** Serialises membership changes of one project, so two admins cannot demote each other at once. */
async function lockProject(tx: Db, project: string) {
  await tx.select({ name: projects.name }).from(projects).where(eq(projects.name, project)).for("no key update");
}

async function keepAnAdmin(tx: Db, project: string, leavingUserId: string) {
  const [leaving] = await tx
    .select({ role: projectMembers.role })
    .from(projectMembers)
    .where(and(eq(projectMembers.project, project), eq(projectMembers.userId, leavingUserId)));
  if (leaving?.role !== "admin") return;
  const others = await tx
    .select({ userId: projectMembers.userId })
    .from(projectMembers)
    .where(
      and(
        eq(projectMembers.project, project),
        eq(projectMembers.role, "admin"),
        ne(projectMembers.userId, leavingUserId),
      ),
    )
    .limit(1);
  if (others.length === 0) throw conflict(`project '${project}' must keep at least one admin`, "role");
}
