import type { AppDeps } from "../context";
import { getLineage, listClusterMembers } from "../lineage/graph";
import { getImpact } from "../lineage/impact";
import { getLineagePath } from "../lineage/path";
import { projectVisibility } from "../lineage/visibility";
import type { RouteHandlers } from "./register-route";

/** /api/v1/projects/:project/lineage and …/impact: the graph around a node, clusters, paths, downstream impact. */
export function lineageRoutes(
  deps: AppDeps,
): RouteHandlers<"getLineage" | "getLineagePath" | "listClusterMembers" | "getImpact"> {
  return {
    getLineage: async (c, { params: { project }, query }) => {
      return c.json(
        await deps.db.read(async (db) =>
          getLineage(db, project, query, { visibility: await projectVisibility(db, c.get("actor")) }),
        ),
      );
    },
    getLineagePath: async (c, { params: { project }, query }) => {
      return c.json(
        await deps.db.read(async (db) =>
          getLineagePath(db, project, query, await projectVisibility(db, c.get("actor"))),
        ),
      );
    },
    listClusterMembers: async (c, { params: { project, clusterId }, query }) => {
      return c.json(
        await deps.db.read(async (db) =>
          listClusterMembers(db, project, clusterId, query, {
            visibility: await projectVisibility(db, c.get("actor")),
          }),
        ),
      );
    },
    getImpact: async (c, { params: { project }, query }) => {
      return c.json(
        await deps.db.read(async (db) => getImpact(db, project, query, await projectVisibility(db, c.get("actor")))),
      );
    },
  };
}
