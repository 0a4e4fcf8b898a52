import type { RegistryMembership } from "@pedigree/protocol";
import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { collectionMemberships, collections, registries } from "../db/schema";
import { namesOf, presentMemberships } from "./present";

/** The registry collections that hold a version now, with its `vN` and aliases there. */
export async function listMemberships(db: Db, versionId: string): Promise<RegistryMembership[]> {
  const rows = await db
    .select({ membership: collectionMemberships, collection: collections, registry: registries.name })
    .from(collectionMemberships)
    .innerJoin(collections, eq(collections.id, collectionMemberships.collectionId))
    .innerJoin(registries, eq(registries.id, collections.registryId))
    .where(and(eq(collectionMemberships.versionId, versionId), isNull(collectionMemberships.unlinkedAt)))
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
