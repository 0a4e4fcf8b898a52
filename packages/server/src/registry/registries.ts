import type { CreateRegistryBody, Registry, RegistryVisibility, UpdateRegistryBody } from "@pedigree/protocol";
import { asc, eq } from "drizzle-orm";
import { registryReadableBy } from "../auth/access";
import type { Db } from "../db/client";
import { registries } from "../db/schema";
import { conflict, forbidden, notFound } from "../errors";
import type { RegistryContext } from "./context";

export type RegistryRow = typeof registries.$inferSelect;
type RegistrySettings = Required<Omit<CreateRegistryBody, "name" | "visibility">> & {
  visibility?: RegistryVisibility | undefined;
};

/**
 * Creates a registry (admins only). Creating it again with the same settings answers the existing one;
 * with other settings it is a conflict, so a script's `createRegistry` can run on every start.
 */
export async function createRegistry(
  tx: Db,
  ctx: RegistryContext,
  input: { name: string } & RegistrySettings,
): Promise<{ registry: Registry; created: boolean }> {
  if (!ctx.actor.isAdmin) throw forbidden("only admins may create registries");
  const settings = normaliseSettings(input);
  const [created] = await tx
    .insert(registries)
    .values({
      name: input.name,
      ...settings,
      visibility: input.visibility ?? "restricted",
      createdBy: ctx.actor.userId,
      createdAt: ctx.now(),
    })
    .onConflictDoNothing({ target: registries.name })
    .returning();
  if (created) return { registry: toRegistry(created), created: true };
  const existing = await requireRegistry(tx, input.name);
  const same =
    existing.description === settings.description &&
    sameList(existing.acceptedTypes, settings.acceptedTypes) &&
    sameList(existing.protectedAliases, settings.protectedAliases) &&
    (input.visibility === undefined || existing.visibility === input.visibility);
  if (!same) throw conflict(`registry '${input.name}' exists with other settings`, "name");
  return { registry: toRegistry(existing), created: false };
}

/** The registries `reader` (a user id) can read, by name. */
export async function listRegistries(db: Db, reader: string): Promise<Registry[]> {
  const rows = await db.select().from(registries).where(registryReadableBy(reader)).orderBy(asc(registries.name));
  return rows.map(toRegistry);
}

/** Changes a registry's description or visibility (the registry gate lets registry and server admins through). */
export async function updateRegistry(tx: Db, name: string, input: UpdateRegistryBody): Promise<Registry> {
  const [updated] = await tx
    .update(registries)
    .set({
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
    })
    .where(eq(registries.name, name))
    .returning();
  if (!updated) throw notFound(`registry '${name}'`, "registry");
  return toRegistry(updated);
}

export async function requireRegistry(db: Db, name: string): Promise<RegistryRow> {
  const [row] = await db.select().from(registries).where(eq(registries.name, name));
  if (!row) throw notFound(`registry '${name}'`, "registry");
  return row;
}

/** Whether the registry takes artifacts of `type` (a registry without accepted types takes any). */
export function acceptsType(registry: RegistryRow, type: string): boolean {
  return registry.acceptedTypes === null || registry.acceptedTypes.includes(type);
}

export function toRegistry(row: RegistryRow): Registry {
  return {
    name: row.name,
    description: row.description,
    acceptedTypes: row.acceptedTypes,
    protectedAliases: row.protectedAliases,
    visibility: row.visibility,
    createdAt: row.createdAt.toISOString(),
  };
}

function normaliseSettings(input: RegistrySettings) {
  const sorted = (list: string[]) => [...new Set(list)].sort();
  return {
    description: input.description,
    acceptedTypes: input.acceptedTypes === null ? null : sorted(input.acceptedTypes),
    protectedAliases: sorted(input.protectedAliases),
  };
}

function sameList(a: string[] | null, b: string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
