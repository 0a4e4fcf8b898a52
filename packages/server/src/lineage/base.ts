/**
 * The base node of a lineage query: an OpenLineage node id (`dataset:…`, `job:…`, `run:<uuid>`, or
 * `namespace` + `name`), a run id (tried first when it looks like one), a version id or a ref.
 */
import { RunId, VersionId } from "@pedigree/protocol";
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { resolveRef } from "../artifacts/refs";
import { type Db, selectRows } from "../db/client";
import { artifacts, runs, versions } from "../db/schema";
import { badRequest } from "../errors";
import { resolveOpenLineageNode } from "../openlineage/nodes";
import type { WalkedNode } from "./walk";

/** How a query names its node: `node`, or (for names holding `:`) `namespace` + `name`, `node=job` for a job. */
export interface NodeSpec {
  node?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

export async function resolveBaseNode(
  db: Db,
  project: string,
  spec: NodeSpec,
  options: { reader: string; asOf?: Date | undefined; field: string },
): Promise<WalkedNode> {
  const named = await resolveNamedNode(db, project, spec, options);
  if (named) return { ...named, depth: 0 };
  const node = spec.node as string;
  if (RunId.safeParse(node).success || VersionId.safeParse(node).success) {
    const found = await selectNodeById(db, project, node, options.asOf);
    if (found) return found;
  }
  const { version, artifact } = await resolveRef(db, project, node, { ...options, tombstones: "allow" });
  return {
    id: version.id,
    kind: "version",
    depth: 0,
    type: artifact.type,
    label: `${artifact.name}:v${version.index}`,
    generated: version.generated,
  };
}

/** A run, or else a committed version, with this id that existed at `asOf`: one prepared query, the hot path. */
async function selectNodeById(db: Db, project: string, id: string, asOf: Date | undefined) {
  const existed = (column: SQL) => (asOf ? sql`and ${column} <= ${asOf.toISOString()}::timestamptz` : sql``);
  const [r, v, a] = [alias(runs, "r"), alias(versions, "v"), alias(artifacts, "a")];
  const [row] = await selectRows<Omit<WalkedNode, "depth">>(
    db,
    sql`
    select 'run' as kind, ${r.id}, ${r.jobType} as type, ${r.name} as label, false as generated
    from ${runs} ${r} where ${r.id} = ${id} and ${r.project} = ${project} ${existed(sql`${r.startedAt}`)}
    union all
    select 'version', ${v.id}, ${a.type}, ${a.name} || ':v' || ${v.index}, ${v.generated}
    from ${versions} ${v} join ${artifacts} ${a} on ${a.id} = ${v.artifactId}
    where ${v.id} = ${id} and ${v.project} = ${project} and ${v.state} = 'committed' ${existed(sql`${v.committedAt}`)}
    order by kind limit 1`,
  );
  return row ? { ...row, depth: 0 } : undefined;
}

async function resolveNamedNode(
  db: Db,
  project: string,
  spec: NodeSpec,
  options: { asOf?: Date | undefined; field: string },
) {
  if (spec.namespace !== undefined || spec.name !== undefined) {
    if (spec.namespace === undefined || spec.name === undefined) {
      throw badRequest(options.field, `${options.field}: namespace and name go together`);
    }
    if (spec.node !== undefined && spec.node !== "dataset" && spec.node !== "job") {
      throw badRequest(options.field, `${options.field}: with namespace and name, it is 'dataset' or 'job'`);
    }
    const kind = spec.node === "job" ? "job" : "dataset";
    return resolveOpenLineageNode(db, project, { kind, namespace: spec.namespace, name: spec.name }, options);
  }
  if (spec.node === undefined) throw badRequest(options.field, `${options.field}: a node is required`);
  return resolveOpenLineageNode(db, project, spec.node, options);
}
