import { parseRegistryRef, VersionId } from "@pedigree/protocol";
import { and, desc, eq, gt, isNull, lte, or } from "drizzle-orm";
import type { ResolvedVersion } from "../artifacts/present";
import { versionIndexOf } from "../artifacts/version-number";
import { registryReadableBy } from "../auth/access";
import type { Db } from "../db/client";
import { artifacts, collectionAliases, collectionMemberships, collections, registries, versions } from "../db/schema";
import { badRequest, notFound } from "../errors";

/**
 * Resolves `registry/collection[:selector]` to the artifact version linked there, as it stood at `asOf`
 * (now when not given). The selector is `latest` (the default: the newest version linked), the
 * collection's `vN`, or one of its aliases. Every registry ref, wherever it is given, comes here: a registry
 * `reader` (a user id) cannot read answers the same 404 as a missing one.
 */
export async function resolveRegistryRef(
  db: Db,
  ref: string,
  options: { reader: string; asOf?: Date | undefined; field?: string },
): Promise<ResolvedVersion> {
  const field = options.field ?? "ref";
  const parsed = parseRegistryRef(ref);
  if (!parsed) throw badRequest(field, `'${ref}' is not a registry ref like 'model/zoo-classifier:production'`);
  const { registry: registryName, collection: collectionName, selector } = parsed;
  const index = versionIndexOf(selector, field);
  const [collection] = await db
    .select({ id: collections.id })
    .from(collections)
    .innerJoin(registries, eq(registries.id, collections.registryId))
    .where(
      and(eq(registries.name, registryName), eq(collections.name, collectionName), registryReadableBy(options.reader)),
    );
  if (!collection) throw notFound(`collection '${registryName}/${collectionName}'`, field);

  const { asOf } = options;
  const linked = and(
    eq(collectionMemberships.collectionId, collection.id),
    asOf
      ? and(
          lte(collectionMemberships.linkedAt, asOf),
          or(isNull(collectionMemberships.unlinkedAt), gt(collectionMemberships.unlinkedAt, asOf)),
        )
      : isNull(collectionMemberships.unlinkedAt),
  );
  let versionId: string | undefined;
  if (index !== undefined) {
    const [row] = await db
      .select({ versionId: collectionMemberships.versionId })
      .from(collectionMemberships)
      .where(and(linked, eq(collectionMemberships.index, index)));
    versionId = row?.versionId;
  } else if (selector === "latest") {
    const [row] = await db
      .select({ versionId: collectionMemberships.versionId })
      .from(collectionMemberships)
      .where(linked)
      .orderBy(desc(collectionMemberships.index))
      .limit(1);
    versionId = row?.versionId;
  } else {
    const held = asOf
      ? and(
          lte(collectionAliases.assignedAt, asOf),
          or(isNull(collectionAliases.removedAt), gt(collectionAliases.removedAt, asOf)),
        )
      : isNull(collectionAliases.removedAt);
    const [row] = await db
      .select({ versionId: collectionMemberships.versionId })
      .from(collectionAliases)
      .innerJoin(collectionMemberships, eq(collectionMemberships.id, collectionAliases.membershipId))
      .where(and(eq(collectionAliases.collectionId, collection.id), eq(collectionAliases.alias, selector), held))
      .limit(1);
    versionId = row?.versionId;
  }
  if (!versionId) throw notFound(`version '${ref}'`, field);
  const [resolved] = await db
    .select({ version: versions, artifact: artifacts })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(eq(versions.id, versionId));
  if (!resolved) throw notFound(`version '${ref}'`, field);
  return resolved;
}

/**
 * The version linked now in `registry/collection` that `version` names: the collection's `vN`, one of its
 * aliases, `latest`, or the id of a linked artifact version. Reading the collection is what lets a reader read
 * the linked version, details and files, whatever project it belongs to: that is what a registry is for.
 */
export async function resolveLinkedVersion(
  db: Db,
  path: { registry: string; collection: string; version: string },
  reader: string,
): Promise<ResolvedVersion> {
  const { registry, collection, version } = path;
  if (!VersionId.safeParse(version).success) {
    return resolveRegistryRef(db, `${registry}/${collection}:${version}`, { reader, field: "version" });
  }
  const [row] = await db
    .select({ version: versions, artifact: artifacts })
    .from(collectionMemberships)
    .innerJoin(collections, eq(collections.id, collectionMemberships.collectionId))
    .innerJoin(registries, eq(registries.id, collections.registryId))
    .innerJoin(versions, eq(versions.id, collectionMemberships.versionId))
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(
      and(
        eq(registries.name, registry),
        eq(collections.name, collection),
        registryReadableBy(reader),
        eq(collectionMemberships.versionId, version),
        isNull(collectionMemberships.unlinkedAt),
      ),
    );
  if (!row) throw notFound(`version '${version}' in collection '${registry}/${collection}'`, "version");
  return row;
}
