import {
  type ArtifactDetails,
  type ArtifactList,
  type ArtifactListQuery,
  type ArtifactSummary,
  DETAILS_RUN_LIMIT,
  type RegistryMembership,
  type VersionContents,
  type VersionDetails,
  type VersionList,
  type VersionListQuery,
  type VersionRuns,
  type VersionRunsQuery,
} from "@pedigree/protocol";
import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "../db/client";
import { artifacts, runInputs, runOutputs, runs, versions } from "../db/schema";
import { notFound } from "../errors";
import { inVisibleProject, type ProjectVisibility } from "../lineage/visibility";
import { datasetOpenLineageOf } from "../openlineage/details";
import { listMemberships } from "../registry/memberships";
import { nameContains } from "../search/names";
import type { ResolvedVersion } from "./present";
import { type ArtifactRow, currentAliases, toVersionSummary } from "./present";

/**
 * Everything a selected version node shows: metadata, files, producers, consumers, registry memberships.
 * Runs of projects the reader cannot see are left out (and out of the counts), as lineage leaves them out;
 * so are memberships in registries the reader cannot read.
 */
export async function getVersionDetails(
  db: Db,
  { version, artifact }: ResolvedVersion,
  visibility: ProjectVisibility,
): Promise<VersionDetails> {
  const held = await currentAliases(db, [{ version, artifact }]);
  const visibleRun = inVisibleProject(runs.project, visibility);
  const producers = await db
    .select({ id: runs.id, name: runs.name, jobType: runs.jobType, state: runs.state, loggedAt: runOutputs.createdAt })
    .from(runOutputs)
    .innerJoin(runs, eq(runs.id, runOutputs.runId))
    .where(and(eq(runOutputs.versionId, version.id), visibleRun))
    .orderBy(asc(runOutputs.createdAt))
    .limit(DETAILS_RUN_LIMIT);
  const consumers = await db
    .select({
      id: runs.id,
      name: runs.name,
      jobType: runs.jobType,
      state: runs.state,
      requestedRef: runInputs.requestedRef,
      usedAt: runInputs.createdAt,
    })
    .from(runInputs)
    .innerJoin(runs, eq(runs.id, runInputs.runId))
    .where(and(eq(runInputs.versionId, version.id), visibleRun))
    .orderBy(desc(runInputs.createdAt))
    .limit(DETAILS_RUN_LIMIT);
  const [producerCount] = await db
    .select({ count: count() })
    .from(runOutputs)
    .innerJoin(runs, eq(runs.id, runOutputs.runId))
    .where(and(eq(runOutputs.versionId, version.id), visibleRun));
  const [consumerCount] = await db
    .select({ count: count() })
    .from(runInputs)
    .innerJoin(runs, eq(runs.id, runInputs.runId))
    .where(and(eq(runInputs.versionId, version.id), visibleRun));
  const memberships: RegistryMembership[] = await listMemberships(db, version.id, visibility.reader);
  return {
    ...toVersionSummary(version, artifact, held.get(version.id) ?? []),
    metadata: version.metadata,
    // A tombstone has no files.
    manifest: version.deletedAt ? [] : version.manifest,
    producers: producers.map((row) => ({ ...row, loggedAt: row.loggedAt.toISOString() })),
    producerCount: producerCount?.count ?? producers.length,
    consumers: consumers.reverse().map((row) => ({ ...row, usedAt: row.usedAt.toISOString() })),
    consumerCount: consumerCount?.count ?? consumers.length,
    memberships,
    ...(await datasetOpenLineageOf(db, version.id)),
  };
}

/** A version's summary with its metadata and files: what `useArtifact` answers. */
export async function getVersionContents(db: Db, { version, artifact }: ResolvedVersion): Promise<VersionContents> {
  const held = await currentAliases(db, [{ version, artifact }]);
  return {
    ...toVersionSummary(version, artifact, held.get(version.id) ?? []),
    metadata: version.metadata,
    manifest: version.manifest,
  };
}

/**
 * Artifacts by name, filtered by type and name (`q`), with the total over all pages. An artifact whose every
 * committed version is `generated` is left out unless `includeGenerated`.
 */
export async function listArtifacts(
  db: Db,
  project: string,
  query: z.output<typeof ArtifactListQuery>,
): Promise<ArtifactList> {
  const matching = and(
    eq(artifacts.project, project),
    query.type ? eq(artifacts.type, query.type) : undefined,
    query.q ? nameContains(artifacts.name, query.q) : undefined,
    query.includeGenerated
      ? undefined
      : sql`(not exists (select 1 from ${versions} v where v.artifact_id = ${artifacts.id} and v.generated)
          or exists (select 1 from ${versions} v where v.artifact_id = ${artifacts.id} and not v.generated))`,
  );
  const rows = await db
    .select()
    .from(artifacts)
    .where(matching)
    .orderBy(asc(artifacts.name))
    .limit(query.limit)
    .offset(query.offset);
  const [count] = await db.select({ total: sql<number>`count(*)::int` }).from(artifacts).where(matching);
  return { artifacts: rows.map(toArtifactSummary), total: Number(count?.total ?? 0) };
}

export async function getArtifactDetails(db: Db, project: string, name: string): Promise<ArtifactDetails> {
  const [artifact] = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.project, project), eq(artifacts.name, name)));
  if (!artifact) throw notFound(`artifact '${name}' in project '${project}'`, "name");
  const rows = await db
    .select()
    .from(versions)
    .where(and(eq(versions.artifactId, artifact.id), eq(versions.state, "committed")))
    .orderBy(desc(versions.index));
  const withArtifact = rows.map((version) => ({ version, artifact }));
  const held = await currentAliases(db, withArtifact);
  return {
    ...toArtifactSummary(artifact),
    versions: rows.map((version) => toVersionSummary(version, artifact, held.get(version.id) ?? [])),
  };
}

function toArtifactSummary(artifact: ArtifactRow): ArtifactSummary {
  return {
    project: artifact.project,
    name: artifact.name,
    type: artifact.type,
    description: artifact.description,
    versionCount: artifact.versionCount,
    createdAt: artifact.createdAt.toISOString(),
  };
}

/**
 * "Used by" (`consumers`, newest use first) or "logged by" (`producers`, first logged first) of a version,
 * searched by run name and paged, with the total; runs of projects the reader cannot see are left out.
 */
export async function listVersionRuns(
  db: Db,
  { version }: ResolvedVersion,
  relation: "consumers" | "producers",
  query: z.output<typeof VersionRunsQuery>,
  visibility: ProjectVisibility,
): Promise<VersionRuns> {
  const edge = relation === "consumers" ? runInputs : runOutputs;
  const matching = and(
    eq(edge.versionId, version.id),
    inVisibleProject(runs.project, visibility),
    query.q ? nameContains(runs.name, query.q) : undefined,
  );
  const rows = await db
    .select({
      id: runs.id,
      name: runs.name,
      jobType: runs.jobType,
      state: runs.state,
      at: edge.createdAt,
      requestedRef: relation === "consumers" ? runInputs.requestedRef : sql<null>`null`,
      total: sql<number>`count(*) over ()::int`,
    })
    .from(edge)
    .innerJoin(runs, eq(runs.id, edge.runId))
    .where(matching)
    .orderBy(relation === "consumers" ? desc(edge.createdAt) : asc(edge.createdAt), asc(runs.id))
    .limit(query.limit)
    .offset(query.offset);
  let total = Number(rows[0]?.total ?? 0);
  if (rows.length === 0 && query.offset > 0) {
    const [counted] = await db
      .select({ count: count() })
      .from(edge)
      .innerJoin(runs, eq(runs.id, edge.runId))
      .where(matching);
    total = counted?.count ?? 0;
  }
  return {
    runs: rows.map(({ total: _total, at, ...row }) => ({ ...row, at: at.toISOString() })),
    total,
  };
}

/** An artifact's committed versions, newest first; `q` matches `vN`, an alias held now or the description. */
export async function listArtifactVersions(
  db: Db,
  project: string,
  name: string,
  query: z.output<typeof VersionListQuery>,
): Promise<VersionList> {
  const [artifact] = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.project, project), eq(artifacts.name, name)));
  if (!artifact) throw notFound(`artifact '${name}' in project '${project}'`, "name");
  const needle = query.q?.toLowerCase();
  const matching = and(
    eq(versions.artifactId, artifact.id),
    eq(versions.state, "committed"),
    needle
      ? sql`('v' || ${versions.index} = ${needle} or strpos(lower(coalesce(${versions.description}, '')), ${needle}) > 0
          or exists (select 1 from aliases al where al.version_id = ${versions.id} and al.removed_at is null
            and strpos(lower(al.alias), ${needle}) > 0))`
      : undefined,
  );
  const rows = await db
    .select()
    .from(versions)
    .where(matching)
    .orderBy(desc(versions.index))
    .limit(query.limit)
    .offset(query.offset);
  const [counted] = await db.select({ count: count() }).from(versions).where(matching);
  const withArtifact = rows.map((version) => ({ version, artifact }));
  const held = await currentAliases(db, withArtifact);
  return {
    versions: rows.map((version) => toVersionSummary(version, artifact, held.get(version.id) ?? [])),
    total: counted?.count ?? 0,
  };
}
