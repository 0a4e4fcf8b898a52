import { ClusterId, ClusterMembersQuery, ImpactQuery, LineagePathQuery, LineageQuery } from "@pedigree/protocol";
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { getLineage, listClusterMembers } from "../lineage/graph";
import { getImpact } from "../lineage/impact";
import { getLineagePath } from "../lineage/path";
import { projectVisibility } from "../lineage/visibility";
import { projectOf, queryOf } from "./request";

/** /api/v1/projects/:project/lineage: the graph around a node, its clusters' members, paths between nodes. */
export function lineageRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const query = queryOf(c, LineageQuery);
      return c.json(
        await deps.db.read(async (db) =>
          getLineage(db, projectOf(c), query, { visibility: await projectVisibility(db, c.get("actor")) }),
        ),
      );
    })
    .get("/path", async (c) => {
      const query = queryOf(c, LineagePathQuery);
      return c.json(
        await deps.db.read(async (db) =>
          getLineagePath(db, projectOf(c), query, await projectVisibility(db, c.get("actor"))),
        ),
      );
    })
    .get("/clusters/:clusterId/members", async (c) => {
      const clusterId = parseInput(ClusterId, c.req.param("clusterId"), "clusterId");
      const query = queryOf(c, ClusterMembersQuery);
      return c.json(
        await deps.db.read(async (db) =>
          listClusterMembers(db, projectOf(c), clusterId, query, {
            visibility: await projectVisibility(db, c.get("actor")),
          }),
        ),
      );
    });
}

/** /api/v1/projects/:project/impact */
export function impactRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/", async (c) => {
    const query = queryOf(c, ImpactQuery);
    return c.json(
      await deps.db.read(async (db) => getImpact(db, projectOf(c), query, await projectVisibility(db, c.get("actor")))),
    );
  });
}
