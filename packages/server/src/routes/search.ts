import { SearchQuery } from "@pedigree/protocol";
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { projectVisibility } from "../lineage/visibility";
import { searchEverything } from "../search/global";
import { queryOf } from "./request";

/** /api/v1/search: any signed-in user; answers only what the caller can read. */
export function searchRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/", async (c) => {
    const query = queryOf(c, SearchQuery);
    return c.json(
      await deps.db.read(async (db) => searchEverything(db, query, await projectVisibility(db, c.get("actor")))),
    );
  });
}
