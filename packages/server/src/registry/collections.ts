import type {
  Collection,
  CollectionList,
  CollectionListFilters,
  CollectionVersion,
  CreateCollectionBody,
  UpdateCollectionBody,
} from "@pedigree/protocol";
import { and, asc, desc, eq, gt, isNull, like, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { collectionMemberships, collections } from "../db/schema";
import { badRequest, conflict, notFound } from "../errors";
import { nameContains } from "../search/names";
import type { RegistryContext } from "./context";
import { appendHistoryEvent, type CollectionRow } from "./history";
import { linkedCountColumn, namesOf, presentMemberships, toCollection } from "./present";
import { acceptsType, type RegistryRow, requireRegistry } from "./registries";

type CreateInput = Required<CreateCollectionBody>;

/**
 * Locks the collection row for the rest of the transaction: the one lock behind collection numbering,
 * alias moves and the history chain. Throws a 404 when there is no such collection.
 */
export async function lockCollection(tx: Db, registry: RegistryRow, name: string): Promise<CollectionRow> {
  const [row] = await tx
    .select()
    .from(collections)
    .where(and(eq(collections.registryId, registry.id), eq(collections.name, name)))
    .for("no key update");
  if (!row) throw notFound(`collection '${registry.name}/${name}'`, "collection");
  return row;
}

export async function findCollection(db: Db, registry: RegistryRow, name: string): Promise<CollectionRow> {
  const [row] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.registryId, registry.id), eq(collections.name, name)));
  if (!row) throw notFound(`collection '${registry.name}/${name}'`, "collection");
  return row;
}

/**
 * Explicit creation. Creating it again with the same type, description and tags answers the existing one
 * (so a retried request is harmless); a name taken with other settings is a 409.
 */
export async function createCollection(
  tx: Db,
  ctx: RegistryContext,
  registryName: string,
  input: CreateInput,
): Promise<{ collection: Collection; created: boolean }> {
  const registry = await requireRegistry(tx, registryName);
  const created = await insertCollection(tx, ctx, registry, input);
  if (created) return { collection: toCollection(created, registry.name, 0), created: true };
  const existing = await findCollection(tx, registry, input.name);
  const same =
    existing.type === input.type &&
    existing.description === input.description &&
    sameTags(existing.tags, [...new Set(input.tags)]);
  if (!same) throw conflict(`collection '${registryName}/${input.name}' exists with other settings`, "name");
  return { collection: await getCollectionOf(tx, registry, existing), created: false };
}

/** The collection a link goes into, created with the linked version's type on first link; locked. */
export async function ensureCollection(
  tx: Db,
  ctx: RegistryContext,
  registry: RegistryRow,
  input: { name: string; type: string },
): Promise<CollectionRow> {
  await insertCollection(tx, ctx, registry, { ...input, description: "", tags: [] });
  return lockCollection(tx, registry, input.name);
}

async function insertCollection(
  tx: Db,
  ctx: RegistryContext,
  registry: RegistryRow,
  input: CreateInput,
): Promise<CollectionRow | undefined> {
  if (!acceptsType(registry, input.type)) {
    throw badRequest("type", `registry '${registry.name}' does not accept artifacts of type '${input.type}'`);
  }
  const [created] = await tx
    .insert(collections)
    .values({
      registryId: registry.id,
      name: input.name,
      type: input.type,
      description: input.description,
      tags: [...new Set(input.tags)],
      createdBy: ctx.actor.userId,
      createdAt: ctx.now(),
    })
    .onConflictDoNothing({ target: [collections.registryId, collections.name] })
    .returning();
  if (!created) return undefined;
  await appendHistoryEvent(tx, ctx, namesOf(registry.name, created), {
    action: "collection_created",
    details: { type: created.type, description: created.description, tags: created.tags },
  });
  return created;
}

/** Changes tags and/or description, one event for each that really changed. */
export async function updateCollection(
  tx: Db,
  ctx: RegistryContext,
  registryName: string,
  name: string,
  input: UpdateCollectionBody,
): Promise<Collection> {
  const registry = await requireRegistry(tx, registryName);
  const collection = await lockCollection(tx, registry, name);
  const names = namesOf(registry.name, collection);
  const tags = input.tags === undefined ? collection.tags : [...new Set(input.tags)];
  const description = input.description ?? collection.description;
  if (!sameTags(tags, collection.tags)) {
    await appendHistoryEvent(tx, ctx, names, {
      action: "tags_changed",
      details: { before: collection.tags, after: tags },
    });
  }
  if (description !== collection.description) {
    await appendHistoryEvent(tx, ctx, names, {
      action: "description_changed",
      details: { before: collection.description, after: description },
    });
  }
  const [updated] = await tx
    .update(collections)
    .set({ tags, description })
    .where(eq(collections.id, collection.id))
    .returning();
  return getCollectionOf(tx, registry, updated as CollectionRow);
}

export async function getCollection(db: Db, registryName: string, name: string): Promise<Collection> {
  const registry = await requireRegistry(db, registryName);
  return getCollectionOf(db, registry, await findCollection(db, registry, name));
}

async function getCollectionOf(db: Db, registry: RegistryRow, row: CollectionRow): Promise<Collection> {
  const [count] = await db.select({ linked: linkedCountColumn }).from(collections).where(eq(collections.id, row.id));
  return toCollection(row, registry.name, count?.linked ?? 0);
}

/**
 * Collections by name, filtered by type, tag, name prefix and name search (`q`), with the total over all pages;
 * paged by cursor (the last name) or by offset.
 */
export async function listCollections(
  db: Db,
  registryName: string,
  query: CollectionListFilters,
): Promise<CollectionList> {
  const registry = await requireRegistry(db, registryName);
  const { limit } = query;
  const matching = and(
    eq(collections.registryId, registry.id),
    query.type ? eq(collections.type, query.type) : undefined,
    query.tag ? sql`${collections.tags} @> array[${query.tag}]::text[]` : undefined,
    query.prefix ? like(collections.name, `${query.prefix.replace(/[\\%_]/g, "\\$&")}%`) : undefined,
    query.q ? nameContains(collections.name, query.q) : undefined,
  );
  const rows = await db
    .select({ collection: collections, linked: linkedCountColumn })
    .from(collections)
    .where(and(matching, query.cursor ? gt(collections.name, query.cursor) : undefined))
    .orderBy(asc(collections.name))
    .limit(limit + 1)
    .offset(query.cursor ? 0 : (query.offset ?? 0));
  const [count] = await db.select({ total: sql<number>`count(*)::int` }).from(collections).where(matching);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    collections: page.map((row) => toCollection(row.collection, registry.name, row.linked)),
    nextCursor: rows.length > limit && last ? last.collection.name : null,
    total: Number(count?.total ?? 0),
  };
}

/** The versions linked now, newest first. */
export async function listCollectionVersions(db: Db, registryName: string, name: string): Promise<CollectionVersion[]> {
  const registry = await requireRegistry(db, registryName);
  const collection = await findCollection(db, registry, name);
  const memberships = await db
    .select()
    .from(collectionMemberships)
    .where(and(eq(collectionMemberships.collectionId, collection.id), isNull(collectionMemberships.unlinkedAt)))
    .orderBy(desc(collectionMemberships.index));
  return presentMemberships(db, namesOf(registry.name, collection), memberships);
}

/** Tags are a set: reordering them is no change. */
function sameTags(a: string[], b: string[]): boolean {
  const sortedB = [...b].sort();
  return a.length === b.length && [...a].sort().every((tag, index) => tag === sortedB[index]);
}
