/** What node details show of OpenLineage: a run's job identity, parent and facets; a version's dataset and facets. */
import type { DatasetOpenLineage, RunOpenLineage } from "@pedigree/protocol";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { openlineageDatasets, openlineageRuns, openlineageVersions } from "../db/schema";

export async function runOpenLineageOf(db: Db, runId: string): Promise<{ openlineage?: RunOpenLineage }> {
  const [row] = await db.select().from(openlineageRuns).where(eq(openlineageRuns.runId, runId));
  if (!row) return {};
  return {
    openlineage: {
      runId: row.openlineageRunId,
      namespace: row.jobNamespace,
      name: row.jobName,
      parent:
        row.parentRunId && row.parentJobNamespace && row.parentJobName
          ? { runId: row.parentRunId, namespace: row.parentJobNamespace, name: row.parentJobName }
          : null,
      runFacets: row.runFacets,
      jobFacets: row.jobFacets,
    },
  };
}

export async function datasetOpenLineageOf(db: Db, versionId: string): Promise<{ openlineage?: DatasetOpenLineage }> {
  const [row] = await db
    .select({
      namespace: openlineageDatasets.namespace,
      name: openlineageDatasets.name,
      datasetVersion: openlineageVersions.datasetVersion,
      facets: openlineageVersions.facets,
    })
    .from(openlineageVersions)
    .innerJoin(openlineageDatasets, eq(openlineageDatasets.artifactId, openlineageVersions.artifactId))
    .where(eq(openlineageVersions.versionId, versionId));
  return row ? { openlineage: row } : {};
}
