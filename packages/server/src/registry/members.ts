import type { ProjectMember, Role } from "@pedigree/protocol";
import { and, eq } from "drizzle-orm";
import { requireUserByName } from "../auth/users";
import type { Db } from "../db/client";
import { registryMembers, users } from "../db/schema";
import { notFound } from "../errors";
import { requireRegistry } from "./registries";

export type RegistryMember = ProjectMember;

export async function listRegistryMembers(db: Db, registryName: string): Promise<RegistryMember[]> {
  const registry = await requireRegistry(db, registryName);
  const rows = await db
    .select({ user: users.name, userId: users.id, role: registryMembers.role, addedAt: registryMembers.createdAt })
    .from(registryMembers)
    .innerJoin(users, eq(users.id, registryMembers.userId))
    .where(eq(registryMembers.registryId, registry.id))
    .orderBy(users.name);
  return rows.map((row) => ({ ...row, addedAt: row.addedAt.toISOString() }));
}

/** Gives `userName` `role` in the registry, adding or changing it. */
export async function setRegistryMember(tx: Db, registryName: string, userName: string, role: Role) {
  const registry = await requireRegistry(tx, registryName);
  const user = await requireUserByName(tx, userName);
  await tx
    .insert(registryMembers)
    .values({ registryId: registry.id, userId: user.id, role })
    .onConflictDoUpdate({ target: [registryMembers.registryId, registryMembers.userId], set: { role } });
  const member = (await listRegistryMembers(tx, registryName)).find((row) => row.userId === user.id);
  if (!member) throw new Error("member row vanished inside its transaction");
  return member;
}

export async function removeRegistryMember(tx: Db, registryName: string, userName: string): Promise<void> {
  const registry = await requireRegistry(tx, registryName);
  const user = await requireUserByName(tx, userName);
  const removed = await tx
    .delete(registryMembers)
    .where(and(eq(registryMembers.registryId, registry.id), eq(registryMembers.userId, user.id)))
    .returning();
  if (removed.length === 0) throw notFound(`member '${userName}' of registry '${registryName}'`, "user");
}
