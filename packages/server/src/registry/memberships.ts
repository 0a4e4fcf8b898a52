import type { RegistryMembership } from "@pedigree/protocol";
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import { registryReadableBy } from "../auth/access";
import type { Db } from "../db/client";
import { collectionMemberships, collections, registries } from "../db/schema";
import { namesOf, presentMemberships } from "./present";

/** The collections of registries `reader` can read that hold a version now, with its `vN` and aliases there. */
export async function listMemberships(db: Db, versionId: string, reader: string): Promise<RegistryMembership[]> {
  const rows = await db
    .select({ membership: collectionMemberships, collection: collections, registry: registries.name })
    .from(collectionMemberships)
    .innerJoin(collections, eq(collections.id, collectionMemberships.collectionId))
    .innerJoin(registries, eq(registries.id, collections.registryId))
    .where(
      and(
        eq(collectionMemberships.versionId, versionId),
        isNull(collectionMemberships.unlinkedAt),
        registryReadableBy(reader),
      ),
    )
    .orderBy(asc(registries.name), asc(collections.name));
  const memberships: RegistryMembership[] = [];
  for (const row of rows) {
    const [presented] = await presentMemberships(db, namesOf(row.registry, row.collection), [row.membership]);
    if (!presented) continue;
    const { registry, collection, version, aliases, linkedAt } = presented;
    memberships.push({ registry, collection, version, aliases, linkedAt });
  }
  return memberships;
}

/** The collections of registries `reader` can read that hold any of `versionIds` now, with which of them each holds (for impact). */
export async function collectionsHolding(
  db: Db,
  versionIds: string[],
  reader: string,
): Promise<{ registry: string; collection: string; versionIds: string[] }[]> {
  const held = new Map<string, { registry: string; collection: string; versionIds: string[] }>();
  for (let start = 0; start < versionIds.length; start += 5000) {
    const rows = await db
      .select({ registry: registries.name, collection: collections.name, versionId: collectionMemberships.versionId })
      .from(collectionMemberships)
      .innerJoin(collections, eq(collections.id, collectionMemberships.collectionId))
      .innerJoin(registries, eq(registries.id, collections.registryId))
      .where(
        and(
          inArray(collectionMemberships.versionId, versionIds.slice(start, start + 5000)),
          isNull(collectionMemberships.unlinkedAt),
          registryReadableBy(reader),
        ),
      );
    for (const row of rows) {
      const key = `${row.registry}/${row.collection}`;
      const group = held.get(key) ?? { registry: row.registry, collection: row.collection, versionIds: [] };
      group.versionIds.push(row.versionId);
      held.set(key, group);
    }
  }
  return [...held.values()].sort((a, b) =>
    `${a.registry}/${a.collection}`.localeCompare(`${b.registry}/${b.collection}`),
  );
}
