import type { CollectionVersion } from "@pedigree/protocol";
import { VersionId } from "@pedigree/protocol";
import { and, eq, isNull } from "drizzle-orm";
import { versionIndexOf } from "../artifacts/version-number";
import { mayTouchProtectedAlias } from "../auth/access";
import type { Db } from "../db/client";
import { collectionAliases, collectionMemberships } from "../db/schema";
import { badRequest, conflict, forbidden, notFound } from "../errors";
import { lockCollection } from "./collections";
import type { RegistryContext } from "./context";
import { appendHistoryEvent, type CollectionRow } from "./history";
import { eventSourceOf, type MembershipRow, namesOf, presentMemberships } from "./present";
import { type RegistryRow, requireRegistry } from "./registries";

/**
 * Collection aliases: one holder per alias in a collection, moved in one transaction (removal from the old
 * version and addition to the new one, each with its event), `latest` derived and never assigned.
 */

/** The one place that decides who may add or remove an alias: protected ones need a registry admin. */
export function assertMayTouchAlias(ctx: RegistryContext, registry: RegistryRow, alias: string): void {
  if (registry.protectedAliases.includes(alias) && !mayTouchProtectedAlias(ctx.role)) {
    throw forbidden(
      `alias '${alias}' is protected in registry '${registry.name}': only its admins may change it`,
      "alias",
    );
  }
}

export interface LockedCollection {
  registry: RegistryRow;
  collection: CollectionRow;
}

/**
 * Gives `alias` to `membership`. When another version holds it, `move` takes it from that one (two events);
 * without `move` it is a 409. Call with the collection row locked.
 */
export async function assignCollectionAlias(
  tx: Db,
  ctx: RegistryContext,
  target: LockedCollection,
  membership: MembershipRow,
  input: { alias: string; move: boolean },
): Promise<"assigned" | "unchanged"> {
  const { registry, collection } = target;
  if (input.alias === "latest") throw badRequest("alias", "'latest' is managed by the server");
  const [held] = await tx
    .select()
    .from(collectionAliases)
    .where(
      and(
        eq(collectionAliases.collectionId, collection.id),
        eq(collectionAliases.alias, input.alias),
        isNull(collectionAliases.removedAt),
      ),
    );
  if (held?.membershipId === membership.id) return "unchanged";
  if (held && !input.move) {
    const holder = await membershipById(tx, held.membershipId);
    throw conflict(
      `alias '${input.alias}' is held by ${registry.name}/${collection.name}:v${holder.index}; pass move: true to move it`,
      "alias",
    );
  }
  assertMayTouchAlias(ctx, registry, input.alias);
  if (held) await releaseCollectionAlias(tx, ctx, target, input.alias);
  await tx.insert(collectionAliases).values({
    collectionId: collection.id,
    alias: input.alias,
    membershipId: membership.id,
    assignedAt: ctx.now(),
    assignedBy: ctx.actor.userId,
  });
  await appendHistoryEvent(tx, ctx, namesOf(registry.name, collection), {
    action: "alias_added",
    collectionVersion: membership.index,
    source: await eventSourceOf(tx, membership.versionId),
    alias: input.alias,
  });
  return "assigned";
}

/** Ends the hold of `alias` (kept as history for `asOf`), with its event. Returns whether anything was held. */
export async function releaseCollectionAlias(
  tx: Db,
  ctx: RegistryContext,
  target: LockedCollection,
  alias: string,
): Promise<boolean> {
  const { registry, collection } = target;
  assertMayTouchAlias(ctx, registry, alias);
  const [released] = await tx
    .update(collectionAliases)
    .set({ removedAt: ctx.now() })
    .where(
      and(
        eq(collectionAliases.collectionId, collection.id),
        eq(collectionAliases.alias, alias),
        isNull(collectionAliases.removedAt),
      ),
    )
    .returning();
  if (!released) return false;
  const holder = await membershipById(tx, released.membershipId);
  await appendHistoryEvent(tx, ctx, namesOf(registry.name, collection), {
    action: "alias_removed",
    collectionVersion: holder.index,
    source: await eventSourceOf(tx, holder.versionId),
    alias,
  });
  return true;
}

/** PUT …/aliases/:alias: `version` is the collection's `vN` or a linked version id. */
export async function setCollectionAlias(
  tx: Db,
  ctx: RegistryContext,
  path: { registry: string; collection: string; alias: string },
  input: { version: string; move: boolean },
): Promise<CollectionVersion> {
  const target = await lockTarget(tx, path);
  const membership = await requireLinkedMembership(tx, target, input.version, "version");
  await assignCollectionAlias(tx, ctx, target, membership, { alias: path.alias, move: input.move });
  return presentOne(tx, target, membership);
}

/** DELETE …/aliases/:alias: a 404 when nothing holds it. */
export async function removeCollectionAlias(
  tx: Db,
  ctx: RegistryContext,
  path: { registry: string; collection: string; alias: string },
): Promise<void> {
  if (path.alias === "latest") throw badRequest("alias", "'latest' is managed by the server");
  const target = await lockTarget(tx, path);
  const released = await releaseCollectionAlias(tx, ctx, target, path.alias);
  if (!released) throw notFound(`alias '${path.alias}' in collection '${path.registry}/${path.collection}'`, "alias");
}

/** Makes `aliases` exactly the aliases of one collection version: removes the others, adds (or moves) the missing. */
export async function setVersionAliases(
  tx: Db,
  ctx: RegistryContext,
  path: { registry: string; collection: string; version: string },
  input: { aliases: string[]; move: boolean },
): Promise<CollectionVersion> {
  const target = await lockTarget(tx, path);
  const membership = await requireLinkedMembership(tx, target, path.version, "version");
  const wanted = new Set(input.aliases);
  if (wanted.has("latest")) throw badRequest("aliases", "'latest' is managed by the server");
  const current = await tx
    .select({ alias: collectionAliases.alias })
    .from(collectionAliases)
    .where(and(eq(collectionAliases.membershipId, membership.id), isNull(collectionAliases.removedAt)));
  for (const { alias } of current) {
    if (!wanted.has(alias)) await releaseCollectionAlias(tx, ctx, target, alias);
  }
  for (const alias of [...wanted].sort()) {
    await assignCollectionAlias(tx, ctx, target, membership, { alias, move: input.move });
  }
  return presentOne(tx, target, membership);
}

/**
 * The membership a selector names among the versions linked now: the collection's `vN` or an artifact
 * version id. Undefined when it is not linked; `known` tells whether the selector ever named a link.
 */
export async function findLinkedMembership(
  tx: Db,
  collection: CollectionRow,
  selector: string,
  field: string,
): Promise<{ membership: MembershipRow | undefined; known: boolean }> {
  const index = versionIndexOf(selector, field);
  if (index === undefined && !VersionId.safeParse(selector).success) {
    throw badRequest(field, `'${selector}' is neither the collection's vN nor a version id`);
  }
  const rows = await tx
    .select()
    .from(collectionMemberships)
    .where(
      and(
        eq(collectionMemberships.collectionId, collection.id),
        index !== undefined ? eq(collectionMemberships.index, index) : eq(collectionMemberships.versionId, selector),
      ),
    );
  return { membership: rows.find((row) => row.unlinkedAt === null), known: rows.length > 0 };
}

async function requireLinkedMembership(
  tx: Db,
  target: LockedCollection,
  selector: string,
  field: string,
): Promise<MembershipRow> {
  const { membership } = await findLinkedMembership(tx, target.collection, selector, field);
  if (!membership) {
    throw notFound(`version '${selector}' linked in '${target.registry.name}/${target.collection.name}'`, field);
  }
  return membership;
}

async function lockTarget(tx: Db, path: { registry: string; collection: string }): Promise<LockedCollection> {
  const registry = await requireRegistry(tx, path.registry);
  const collection = await lockCollection(tx, registry, path.collection);
  return { registry, collection };
}

async function membershipById(tx: Db, id: number): Promise<MembershipRow> {
  const [row] = await tx.select().from(collectionMemberships).where(eq(collectionMemberships.id, id));
  if (!row) throw new Error(`membership ${id} vanished inside its transaction`);
  return row;
}

export async function presentOne(
  db: Db,
  target: LockedCollection,
  membership: MembershipRow,
): Promise<CollectionVersion> {
  const [presented] = await presentMemberships(db, namesOf(target.registry.name, target.collection), [membership]);
  if (!presented) throw new Error(`membership ${membership.id} has no source version`);
  return presented;
}
