import type { AppDeps } from "../context";
import { projectVisibility } from "../lineage/visibility";
import { searchEverything } from "../search/global";
import type { RouteHandlers } from "./register-route";

/** /api/v1/search: any signed-in user; answers only what the caller can read. */
export function searchRoutes(deps: AppDeps): RouteHandlers<"search"> {
  return {
    search: async (c, { query }) =>
      c.json(
        await deps.db.read(async (db) => searchEverything(db, query, await projectVisibility(db, c.get("actor")))),
      ),
  };
}
