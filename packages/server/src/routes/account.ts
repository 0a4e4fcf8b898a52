import type { AppDeps } from "../context";
import { listProjects } from "../projects";
import type { RouteHandlers } from "./register-route";

/** /api/v1: who the key belongs to, and the projects it can see (all of them for a server admin). */
export function accountRoutes(deps: AppDeps): RouteHandlers<"whoAmI" | "listProjects"> {
  return {
    whoAmI: (c) => {
      const actor = c.get("actor");
      return c.json({ user: { id: actor.userId, name: actor.userName, isAdmin: actor.isAdmin }, keyId: actor.keyId });
    },
    listProjects: async (c) => c.json({ projects: await deps.db.read((db) => listProjects(db, c.get("actor"))) }),
  };
}
