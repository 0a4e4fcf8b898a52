import { ProjectName, RegistryName, type Role } from "@pedigree/protocol";
import { type AnyColumn, and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "../context";
import type { Db } from "../db/client";
import { projectMembers, projects, registries, registryMembers, users } from "../db/schema";
import { forbidden, notFound, parseInput } from "../errors";
import type { Actor } from "./actor";
import type { ProjectAccess } from "./project-access";

/**
 * Authorization, in one place: what each level of a route's declared permission (see `auth/gate.ts`) means. Server admins may do anything. Everyone else needs a role in the project:
 * a viewer reads, a member also writes, an admin also manages members. A project the actor has no role in
 * answers 404, exactly as one that does not exist, so names do not leak. A write to a project that does
 * not exist yet is allowed: the write creates it (`ensureProject`) and makes the writer its admin.
 * Registries (registry_members) use the same roles and ranking; who reads one is `registryReadableBy`.
 */
export type Permission = "read" | "write" | "manage";

const rank: Record<Role, number> = { viewer: 1, member: 2, admin: 3 };
const leastRole: Record<Permission, Role> = { read: "viewer", write: "member", manage: "admin" };

export function roleAllows(role: Role | null, permission: Permission): boolean {
  return role !== null && rank[role] >= rank[leastRole[permission]];
}

/** Throws the 404 or 403 the actor gets for `permission` on `project`; answers how the write may proceed. */
export async function authorizeProject(
  db: Db,
  actor: Pick<Actor, "userId" | "isAdmin">,
  project: string,
  permission: Permission,
): Promise<ProjectAccess> {
  return decideProjectAccess(actor, project, permission, await projectRole(db, actor.userId, project));
}

/**
 * Who may delete what the data of a project: its admins (and server admins) anything, a member what they
 * logged themselves (`createdBy`). Throws the 403 naming the first item the actor may not delete.
 */
export async function authorizeDeletion(
  db: Db,
  actor: Pick<Actor, "userId" | "isAdmin">,
  project: string,
  items: readonly { createdBy: string; label: string }[],
): Promise<void> {
  if (actor.isAdmin) return;
  const role = (await projectRole(db, actor.userId, project))?.role ?? null;
  if (role === "admin") return;
  const other = items.find((item) => item.createdBy !== actor.userId);
  if (other || !roleAllows(role, "write")) {
    throw forbidden(
      `${other?.label ?? "this"} can be deleted only by an admin of project '${project}' or the member who logged it`,
      "project",
    );
  }
}

/** Whether `project` exists, and the role `userId` holds in it (null without one). */
async function projectRole(db: Db, userId: string, project: string): Promise<{ role: Role | null } | undefined> {
  const [row] = await db
    .select({ name: projects.name, role: projectMembers.role })
    .from(projects)
    .leftJoin(projectMembers, and(eq(projectMembers.project, projects.name), eq(projectMembers.userId, userId)))
    .where(eq(projects.name, project));
  return row ? { role: row.role ?? null } : undefined;
}

function decideProjectAccess(
  actor: Pick<Actor, "isAdmin">,
  project: string,
  permission: Permission,
  found: { role: Role | null } | undefined,
): ProjectAccess {
  if (!found) {
    if (permission === "write") return { claimsProject: !actor.isAdmin, projectExists: false };
    throw notFound(`project '${project}'`, "project");
  }
  if (actor.isAdmin) return { claimsProject: false, projectExists: true };
  const { role } = found;
  if (role === null) throw notFound(`project '${project}'`, "project");
  if (!roleAllows(role, permission)) {
    const action = permission === "manage" ? "manage members" : "write";
    throw forbidden(`a ${role} of project '${project}' cannot ${action}`, "project");
  }
  return { claimsProject: false, projectExists: true };
}

/** The gate of routes needing `project:<permission>`; roles in existing projects come from `deps.accessCache`. */
export function requireProjectAccess(deps: AppDeps, permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const project = parseInput(ProjectName, c.req.param("project"), "project");
    const actor = c.get("actor");
    const now = deps.clock.now().getTime();
    let found = deps.accessCache.get(actor.userId, project, now);
    if (!found) {
      const stamp = deps.accessCache.stamp();
      found = await deps.db.read((db) => projectRole(db, actor.userId, project));
      if (found) deps.accessCache.set(actor.userId, project, found.role, now, stamp);
    }
    c.set("projectAccess", decideProjectAccess(actor, project, permission, found));
    await next();
  };
}

/**
 * Creates `project` on first write, making `actor` its admin, inside the writing transaction (a failed write
 * leaves no project behind). When another request created it first, the actor must be a member of it.
 */
export async function claimProject(
  tx: Db,
  project: string,
  actor: string,
  access: Pick<ProjectAccess, "claimsProject">,
): Promise<void> {
  const created = await tx.insert(projects).values({ name: project }).onConflictDoNothing().returning();
  if (created.length > 0) {
    await tx.insert(projectMembers).values({ project, userId: actor, role: "admin" });
    return;
  }
  if (!access.claimsProject) return;
  await authorizeProject(tx, { userId: actor, isAdmin: false }, project, "write");
}

/**
 * Which projects a user reads, as a condition on a project column: every project for a server admin, those the
 * user holds any role in otherwise. The one rule for reads that cross projects (e.g. blobs named by sha256).
 */
export function projectReadableBy(actor: Pick<Actor, "userId" | "isAdmin">, project: AnyColumn | SQL): SQL {
  if (actor.isAdmin) return sql`true`;
  return sql`${project} in (select ${projectMembers.project} from ${projectMembers} where ${projectMembers.userId} = ${actor.userId})`;
}

/** Routes needing `server:admin` are no secret, so others get a 403. */
export function assertServerAdmin(actor: Pick<Actor, "isAdmin">): void {
  if (!actor.isAdmin) throw forbidden("only server admins manage users", "authorization");
}

/**
 * Blobs are uploaded for a version the actor is logging, so uploading needs write access to some project;
 * a user who may only read cannot fill the store.
 */
export async function authorizeBlobUpload(db: Db, actor: Pick<Actor, "userId" | "isAdmin">): Promise<void> {
  if (actor.isAdmin) return;
  const [writable] = await db
    .select({ project: projectMembers.project })
    .from(projectMembers)
    .where(and(eq(projectMembers.userId, actor.userId), inArray(projectMembers.role, ["member", "admin"])))
    .limit(1);
  if (!writable) throw forbidden("uploading files needs the member or admin role in a project", "authorization");
}

/**
 * The one rule for reading a registry, as a condition over `registries`: server admins read every registry,
 * every signed-in user reads an `organization` registry, only its members read a `restricted` one. The
 * registry gate, the registry list and registry refs (`resolveRegistryRef`, wherever a ref is resolved)
 * all apply it, so a registry a user cannot read is, to that user, one that does not exist.
 */
export function registryReadableBy(userId: string): SQL {
  return sql`(${registries.visibility} = 'organization'
    or exists (select 1 from ${registryMembers}
      where ${registryMembers.registryId} = ${registries.id} and ${registryMembers.userId} = ${userId})
    or exists (select 1 from ${users} where ${users.id} = ${userId} and ${users.isAdmin}))`;
}

/**
 * The actor's role in a registry it can read (admin for a server admin, null without a membership row),
 * or undefined when the registry does not exist or the actor cannot read it.
 */
export async function registryRole(
  db: Db,
  actor: Pick<Actor, "userId" | "isAdmin">,
  registry: string,
): Promise<{ role: Role | null } | undefined> {
  const [row] = await db
    .select({ id: registries.id, role: registryMembers.role })
    .from(registries)
    .leftJoin(
      registryMembers,
      and(eq(registryMembers.registryId, registries.id), eq(registryMembers.userId, actor.userId)),
    )
    .where(and(eq(registries.name, registry), registryReadableBy(actor.userId)));
  if (!row) return undefined;
  return { role: actor.isAdmin ? "admin" : (row.role ?? null) };
}

/**
 * A registry the actor cannot read answers 404, exactly as a missing one. Reading needs nothing more;
 * writing (collections, links, unprotected aliases) needs the member role; protected aliases, members and
 * the registry's settings need admin. Answers the actor's role.
 */
export async function authorizeRegistry(
  db: Db,
  actor: Pick<Actor, "userId" | "isAdmin">,
  registry: string,
  permission: Permission,
): Promise<Role | null> {
  const found = await registryRole(db, actor, registry);
  if (!found) throw notFound(`registry '${registry}'`, "registry");
  const { role } = found;
  if (permission === "read") return role;
  if (!roleAllows(role, permission)) {
    const need = permission === "manage" ? "an admin" : "a member";
    throw forbidden(
      `changing registry '${registry}' needs ${need} of it (you are ${role ?? "not a member"})`,
      "registry",
    );
  }
  return role;
}

/** The gate of routes needing `registry:<permission>`; the actor's role goes on to the registry services. */
export function requireRegistryAccess(deps: AppDeps, permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const registry = parseInput(RegistryName, c.req.param("registry"), "registry");
    c.set("registryRole", await deps.db.read((db) => authorizeRegistry(db, c.get("actor"), registry, permission)));
    await next();
  };
}

/** Protected aliases (e.g. `production`) are moved by registry admins only. */
export function mayTouchProtectedAlias(role: Role | null): boolean {
  return roleAllows(role, "manage");
}
