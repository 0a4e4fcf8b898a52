import type { LinkResponse } from "@pedigree/protocol";
import { and, eq, isNull, sql } from "drizzle-orm";
import { assertLive, resolveRef } from "../artifacts/refs";
import type { Db } from "../db/client";
import { collectionAliases, collectionMemberships, collections, versions } from "../db/schema";
import { badRequest, conflict, notFound } from "../errors";
import { assignCollectionAlias, findLinkedMembership, presentOne, releaseCollectionAlias } from "./collection-aliases";
import { ensureCollection, lockCollection } from "./collections";
import type { RegistryContext } from "./context";
import { appendHistoryEvent } from "./history";
import { eventSourceOf, namesOf } from "./present";
import { acceptsType, requireRegistry } from "./registries";

/**
 * Links the version `ref` names in `project` into a collection (created with the version's type on first
 * link) as its next `vN`, then gives it `aliases`. A version linked already keeps its `vN`: the link is a
 * no-op and only the aliases it does not hold yet are added.
 */
export async function linkVersion(
  tx: Db,
  ctx: RegistryContext,
  path: { registry: string; collection: string },
  input: { project: string; ref: string; aliases: string[]; move: boolean },
): Promise<LinkResponse> {
  const registry = await requireRegistry(tx, path.registry);
  const source = await resolveRef(tx, input.project, input.ref, { reader: ctx.actor.userId });
  // Held until commit: a deletion or expiry of the version waits for this link, then sees it (artifacts/deletion.ts).
  const [live] = await tx
    .select({ deletedAt: versions.deletedAt, deletedBy: versions.deletedBy })
    .from(versions)
    .where(eq(versions.id, source.version.id))
    .for("share");
  assertLive({ ...source, version: { ...source.version, ...live } }, "ref");
  const type = source.artifact.type;
  if (!acceptsType(registry, type)) {
    throw badRequest("ref", `registry '${registry.name}' does not accept artifacts of type '${type}'`);
  }
  if (input.aliases.includes("latest")) throw badRequest("aliases", "'latest' is managed by the server");
  const collection = await ensureCollection(tx, ctx, registry, { name: path.collection, type });
  if (collection.type !== type) {
    throw conflict(`collection '${registry.name}/${collection.name}' holds '${collection.type}', not '${type}'`, "ref");
  }
  const target = { registry, collection };
  let { membership } = await findLinkedMembership(tx, collection, source.version.id, "ref");
  const linked = membership === undefined;
  if (!membership) {
    [membership] = await tx
      .insert(collectionMemberships)
      .values({
        collectionId: collection.id,
        index: collection.versionCount,
        versionId: source.version.id,
        linkedAt: ctx.now(),
        linkedBy: ctx.actor.userId,
      })
      .returning();
    if (!membership) throw new Error("membership insert returned nothing");
    await tx
      .update(collections)
      .set({ versionCount: sql`${collections.versionCount} + 1` })
      .where(eq(collections.id, collection.id));
    await appendHistoryEvent(tx, ctx, namesOf(registry.name, collection), {
      action: "version_linked",
      collectionVersion: membership.index,
      source: await eventSourceOf(tx, source.version.id),
    });
  }
  for (const alias of [...new Set(input.aliases)].sort()) {
    await assignCollectionAlias(tx, ctx, target, membership, { alias, move: input.move });
  }
  return { membership: await presentOne(tx, target, membership), linked };
}

/**
 * Takes a version out of a collection: its aliases are removed (each with its event) and the membership
 * row is kept with `unlinkedAt`. Unlinking what is not linked is a 409; a `vN` the collection never had, a 404.
 */
export async function unlinkVersion(
  tx: Db,
  ctx: RegistryContext,
  path: { registry: string; collection: string; version: string },
): Promise<void> {
  const registry = await requireRegistry(tx, path.registry);
  const collection = await lockCollection(tx, registry, path.collection);
  const target = { registry, collection };
  const { membership, known } = await findLinkedMembership(tx, collection, path.version, "version");
  if (!membership) {
    const where = `${registry.name}/${collection.name}`;
    if (!known && /^v\d+$/.test(path.version)) throw notFound(`version '${path.version}' of '${where}'`, "version");
    throw conflict(`'${path.version}' is not linked in '${where}'`, "version");
  }
  const held = await tx
    .select({ alias: collectionAliases.alias })
    .from(collectionAliases)
    .where(and(eq(collectionAliases.membershipId, membership.id), isNull(collectionAliases.removedAt)));
  for (const { alias } of held.sort((a, b) => a.alias.localeCompare(b.alias))) {
    await releaseCollectionAlias(tx, ctx, target, alias);
  }
  await tx
    .update(collectionMemberships)
    .set({ unlinkedAt: ctx.now(), unlinkedBy: ctx.actor.userId })
    .where(eq(collectionMemberships.id, membership.id));
  await appendHistoryEvent(tx, ctx, namesOf(registry.name, collection), {
    action: "version_unlinked",
    collectionVersion: membership.index,
    source: await eventSourceOf(tx, membership.versionId),
  });
}
