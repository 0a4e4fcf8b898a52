import { and, desc, eq, gt, isNull, lte, or } from "drizzle-orm";
import type { ResolvedVersion } from "../artifacts/refs";
import { versionIndexOf } from "../artifacts/version-number";
import type { Db } from "../db/client";
import { artifacts, collectionAliases, collectionMemberships, collections, registries, versions } from "../db/schema";
import { badRequest, notFound } from "../errors";

const REGISTRY_REF =
  /^([a-z0-9][a-z0-9._-]{0,63})\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})(?::([A-Za-z0-9][A-Za-z0-9._-]{0,63}))?$/;

/**
 * Resolves `registry/collection[:selector]` to the artifact version linked there, as it stood at `asOf`
 * (now when not given). The selector is `latest` (the default: the newest version linked), the
 * collection's `vN`, or one of its aliases.
 */
export async function resolveRegistryRef(
  db: Db,
  ref: string,
  options: { asOf?: Date; field?: string },
): Promise<ResolvedVersion> {
  const field = options.field ?? "ref";
  const match = REGISTRY_REF.exec(ref);
  if (!match) throw badRequest(field, `'${ref}' is not a registry ref like 'model/zoo-classifier:production'`);
  const [, registryName, collectionName, selector = "latest"] = match;
  const index = versionIndexOf(selector, field);
  const [collection] = await db
    .select({ id: collections.id })
    .from(collections)
    .innerJoin(registries, eq(registries.id, collections.registryId))
    .where(and(eq(registries.name, registryName as string), eq(collections.name, collectionName as string)));
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
