import type { Collection, CollectionVersion } from "@pedigree/protocol";
import { and, eq, inArray, isNull, max, sql } from "drizzle-orm";
import { loadVersionSummaries } from "../artifacts/present";
import type { Db } from "../db/client";
import { qualified } from "../db/qualified";
import { artifacts, collectionAliases, collectionMemberships, collections, versions } from "../db/schema";
import type { CollectionRow, EventSource } from "./history";

export type MembershipRow = typeof collectionMemberships.$inferSelect;

export interface CollectionNames {
  registry: string;
  collection: string;
  collectionId: number;
}

export const namesOf = (registry: string, collection: CollectionRow): CollectionNames => ({
  registry,
  collection: collection.name,
  collectionId: collection.id,
});

/** Linked versions with their collection `vN`, held aliases (the managed `latest` first) and source summary. */
export async function presentMemberships(
  db: Db,
  names: CollectionNames,
  memberships: MembershipRow[],
): Promise<CollectionVersion[]> {
  if (memberships.length === 0) return [];
  const sources = await loadVersionSummaries(
    db,
    memberships.map((row) => row.versionId),
  );
  const sourceById = new Map(sources.map((source) => [source.id, source]));
  const held = await db
    .select({ membershipId: collectionAliases.membershipId, alias: collectionAliases.alias })
    .from(collectionAliases)
    .where(
      and(
        inArray(
          collectionAliases.membershipId,
          memberships.map((row) => row.id),
        ),
        isNull(collectionAliases.removedAt),
      ),
    )
    .orderBy(collectionAliases.alias);
  const latest = await latestIndex(db, names.collectionId);
  return memberships.flatMap((row) => {
    const source = sourceById.get(row.versionId);
    if (!source) return [];
    const aliases = held.filter((alias) => alias.membershipId === row.id).map((alias) => alias.alias);
    const isLatest = row.unlinkedAt === null && row.index === latest;
    return [
      {
        registry: names.registry,
        collection: names.collection,
        version: `v${row.index}`,
        aliases: isLatest ? ["latest", ...aliases] : aliases,
        linkedAt: row.linkedAt.toISOString(),
        source,
      },
    ];
  });
}

/** N of the collection's `latest`: the newest version linked now. */
export async function latestIndex(db: Db, collectionId: number): Promise<number | null> {
  const [row] = await db
    .select({ index: max(collectionMemberships.index) })
    .from(collectionMemberships)
    .where(and(eq(collectionMemberships.collectionId, collectionId), isNull(collectionMemberships.unlinkedAt)));
  return row?.index ?? null;
}

/** How an event names the artifact version: `artifact:vN`, its project and id. */
export async function eventSourceOf(db: Db, versionId: string): Promise<EventSource> {
  const [row] = await db
    .select({ project: versions.project, index: versions.index, artifact: artifacts.name })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(eq(versions.id, versionId));
  if (!row) throw new Error(`version ${versionId} vanished inside its transaction`);
  return { versionId, project: row.project, label: `${row.artifact}:v${row.index}` };
}

export function toCollection(row: CollectionRow, registry: string, linkedCount: number): Collection {
  return {
    registry,
    name: row.name,
    type: row.type,
    description: row.description,
    tags: row.tags,
    versionCount: row.versionCount,
    linkedCount,
    createdAt: row.createdAt.toISOString(),
  };
}

/** SQL for the number of versions linked now, as a column of a query over collections. */
export const linkedCountColumn = sql<number>`(select count(*)::int from ${collectionMemberships} as "m"
  where ${qualified(collectionMemberships.collectionId, "m")} = ${qualified(collections.id)}
  and ${qualified(collectionMemberships.unlinkedAt, "m")} is null)`;
