/** The base node of a lineage query: a run id (tried first when it looks like one), a version id or a ref. */
import { RunId } from "@pedigree/protocol";
import { and, eq, lte } from "drizzle-orm";
import { resolveRef } from "../artifacts/refs";
import type { Db } from "../db/client";
import { runs } from "../db/schema";
import type { WalkedNode } from "./walk";

export async function resolveBaseNode(
  db: Db,
  project: string,
  node: string,
  options: { asOf?: Date | undefined; field: string },
): Promise<WalkedNode> {
  if (RunId.safeParse(node).success) {
    const [run] = await db
      .select({ id: runs.id, name: runs.name, jobType: runs.jobType })
      .from(runs)
      .where(
        and(eq(runs.id, node), eq(runs.project, project), options.asOf ? lte(runs.startedAt, options.asOf) : undefined),
      );
    if (run) return { id: run.id, kind: "run", depth: 0, type: run.jobType, label: run.name, generated: false };
  }
  const { version, artifact } = await resolveRef(db, project, node, {
    field: options.field,
    ...(options.asOf ? { asOf: options.asOf } : {}),
  });
  return {
    id: version.id,
    kind: "version",
    depth: 0,
    type: artifact.type,
    label: `${artifact.name}:v${version.index}`,
    generated: version.generated,
  };
}
