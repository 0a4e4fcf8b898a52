import { VersionId } from "@pedigree/protocol";
import { and, desc, eq, gt, isNull, lte, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { aliases, artifacts, versions } from "../db/schema";
import { ApiError, badRequest, notFound } from "../errors";
import { resolveRegistryRef } from "../registry/refs";
import type { ResolvedVersion, VersionRow } from "./present";
import { versionIndexOf } from "./version-number";

export interface ParsedRef {
  name: string;
  /** `latest`, an alias, or `vN`. */
  selector: string;
}

/** `name`, `name:alias` or `name:vN`. Registry refs (with a `/`) are resolved by the registry. */
export function parseArtifactRef(ref: string, field = "ref"): ParsedRef {
  const colon = ref.lastIndexOf(":");
  const name = colon === -1 ? ref : ref.slice(0, colon);
  const selector = colon === -1 ? "latest" : ref.slice(colon + 1);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) throw badRequest(field, `'${ref}' does not name an artifact`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(selector)) throw badRequest(field, `'${ref}' has no valid alias or vN`);
  return { name, selector };
}

export interface RefOptions {
  /** The user resolving the ref: a registry ref needs read access to its registry. */
  reader: string;
  asOf?: Date | undefined;
  field?: string;
  /** Answer tombstones too (details, lineage); otherwise naming one is a 410 naming its deletion. */
  tombstones?: "allow";
}

/**
 * The committed version a ref names in `project`, as it stood at `asOf` (now when not given); a registry
 * ref names the version linked there, whatever its project. Throws a 404 naming the ref when there is none.
 */
export async function resolveRef(db: Db, project: string, ref: string, options: RefOptions): Promise<ResolvedVersion> {
  const resolved = await resolveAnyRef(db, project, ref, options);
  if (options.tombstones !== "allow") assertLive(resolved, options.field ?? "ref");
  return resolved;
}

/** Throws the 410 for a tombstone, naming the version and its deletion. */
export function assertLive(
  {
    version,
    artifact,
  }: { version: Pick<VersionRow, "id" | "index" | "deletedAt" | "deletedBy">; artifact: { name: string } },
  field = "ref",
): void {
  if (version.deletedAt === null) return;
  const how = version.deletedBy ? `deleted by ${version.deletedBy}` : "expired";
  throw new ApiError(
    "GONE",
    `version ${artifact.name}:v${version.index} (${version.id}) was ${how} at ${version.deletedAt.toISOString()}`,
    field,
  );
}

async function resolveAnyRef(db: Db, project: string, ref: string, options: RefOptions): Promise<ResolvedVersion> {
  const field = options.field ?? "ref";
  if (VersionId.safeParse(ref).success) return resolveVersionId(db, project, ref, field);
  if (ref.includes("/")) return resolveRegistryRef(db, ref, { ...options, field });
  const { name, selector } = parseArtifactRef(ref, field);
  const found = await selectVersion(db, project, name, selector, versionIndexOf(selector, field), options.asOf);
  if (found) return found;
  // Only a miss asks which part is missing, for the message.
  const [artifact] = await db
    .select({ id: artifacts.id })
    .from(artifacts)
    .where(and(eq(artifacts.project, project), eq(artifacts.name, name)));
  if (!artifact) throw notFound(`artifact '${name}' in project '${project}'`, field);
  throw notFound(`version '${ref}' in project '${project}'`, field);
}

async function resolveVersionId(db: Db, project: string, id: string, field: string): Promise<ResolvedVersion> {
  const [row] = await db
    .select({ version: versions, artifact: artifacts })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(and(eq(versions.id, id), eq(versions.project, project), eq(versions.state, "committed")));
  if (!row) throw notFound(`version '${id}' in project '${project}'`, field);
  return row;
}

/** The artifact and its committed version the selector names, in one query. */
async function selectVersion(
  db: Db,
  project: string,
  name: string,
  selector: string,
  index: number | undefined,
  asOf: Date | undefined,
): Promise<ResolvedVersion | undefined> {
  const committed = and(
    eq(artifacts.project, project),
    eq(artifacts.name, name),
    eq(versions.state, "committed"),
    asOf ? lte(versions.committedAt, asOf) : undefined,
  );
  if (index !== undefined) {
    const [row] = await db
      .select({ version: versions, artifact: artifacts })
      .from(artifacts)
      .innerJoin(versions, eq(versions.artifactId, artifacts.id))
      .where(and(committed, eq(versions.index, index)));
    return row;
  }
  if (selector === "latest") {
    const [row] = await db
      .select({ version: versions, artifact: artifacts })
      .from(artifacts)
      .innerJoin(versions, eq(versions.artifactId, artifacts.id))
      .where(
        and(
          committed,
          asOf ? or(isNull(versions.deletedAt), gt(versions.deletedAt, asOf)) : isNull(versions.deletedAt),
        ),
      )
      .orderBy(desc(versions.index))
      .limit(1);
    return row;
  }
  const heldAt = asOf
    ? and(lte(aliases.assignedAt, asOf), or(isNull(aliases.removedAt), gt(aliases.removedAt, asOf)))
    : isNull(aliases.removedAt);
  const [row] = await db
    .select({ version: versions, artifact: artifacts })
    .from(artifacts)
    .innerJoin(aliases, eq(aliases.artifactId, artifacts.id))
    .innerJoin(versions, eq(versions.id, aliases.versionId))
    .where(and(eq(artifacts.project, project), eq(artifacts.name, name), eq(aliases.alias, selector), heldAt))
    .limit(1);
  return row;
}
