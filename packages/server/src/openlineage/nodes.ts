/**
 * OpenLineage node ids as lineage base nodes: `dataset:<namespace>:<name>` (the dataset's newest version),
 * `job:<namespace>:<name>` (the job's latest run), `run:<uuid>`, or a dataset or job named by its parts.
 */
import { type OpenLineageNodeName, parseOpenLineageNodeId } from "@pedigree/protocol";
import { and, desc, eq, isNotNull, lte, or, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { artifacts, openlineageDatasets, openlineageRuns, runs, versions } from "../db/schema";
import { notFound } from "../errors";

export interface OpenLineageBase {
  id: string;
  kind: "version" | "run";
  type: string;
  label: string;
  generated: boolean;
}

type Named = { namespace: string; name: string };

/** The node `text` names, null when `text` is no OpenLineage node id; a 404 on `field` when it names nothing. */
export async function resolveOpenLineageNode(
  db: Db,
  project: string,
  node: string | OpenLineageNodeName,
  options: { asOf?: Date | undefined; field: string },
): Promise<OpenLineageBase | null> {
  const parsed =
    typeof node === "string"
      ? parseOpenLineageNodeId(node)
      : { kind: node.kind, candidates: [{ namespace: node.namespace, name: node.name }] };
  if (!parsed) return null;
  const shown = typeof node === "string" ? node : `${node.kind}:${node.namespace}:${node.name}`;
  const found =
    parsed.kind === "run"
      ? await runNode(db, project, eq(openlineageRuns.openlineageRunId, parsed.runId), options.asOf)
      : parsed.kind === "job"
        ? await runNode(db, project, anyOf(parsed.candidates, openlineageRuns), options.asOf)
        : await datasetNode(db, project, parsed.candidates, options.asOf);
  if (!found) throw notFound(`OpenLineage node '${shown}' in project '${project}'`, options.field);
  return found;
}

/** Readings of an id, the longest namespace first (namespaces hold `:` more often than names do). */
function anyOf(candidates: Named[], table: typeof openlineageRuns | typeof openlineageDatasets): SQL {
  const namespace = "jobNamespace" in table ? table.jobNamespace : table.namespace;
  const name = "jobName" in table ? table.jobName : table.name;
  return or(...candidates.map((c) => and(eq(namespace, c.namespace), eq(name, c.name)))) as SQL;
}

async function runNode(db: Db, project: string, which: SQL, asOf: Date | undefined) {
  const [row] = await db
    .select({ id: runs.id, type: runs.jobType, label: runs.name })
    .from(openlineageRuns)
    .innerJoin(runs, eq(runs.id, openlineageRuns.runId))
    .where(and(eq(openlineageRuns.project, project), which, asOf ? lte(runs.startedAt, asOf) : undefined))
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(1);
  return row ? { ...row, kind: "run" as const, generated: false } : null;
}

async function datasetNode(db: Db, project: string, candidates: Named[], asOf: Date | undefined) {
  const datasets = await db
    .select({ artifactId: openlineageDatasets.artifactId, namespace: openlineageDatasets.namespace })
    .from(openlineageDatasets)
    .where(and(eq(openlineageDatasets.project, project), anyOf(candidates, openlineageDatasets)));
  const dataset = datasets.sort((a, b) => b.namespace.length - a.namespace.length)[0];
  if (!dataset) return null;
  const [row] = await db
    .select({ id: versions.id, index: versions.index, type: artifacts.type, artifact: artifacts.name })
    .from(versions)
    .innerJoin(artifacts, eq(artifacts.id, versions.artifactId))
    .where(
      and(
        eq(versions.artifactId, dataset.artifactId),
        eq(versions.state, "committed"),
        isNotNull(versions.index),
        asOf ? lte(versions.committedAt, asOf) : undefined,
      ),
    )
    .orderBy(desc(versions.index))
    .limit(1);
  return row
    ? { id: row.id, kind: "version" as const, type: row.type, label: `${row.artifact}:v${row.index}`, generated: false }
    : null;
}
