import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { listProjects } from "../projects";

/** /api/v1: who the key belongs to, and the projects it can see (all of them for a server admin). */
export function accountRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get("/me", (c) => {
      const actor = c.get("actor");
      return c.json({ user: { id: actor.userId, name: actor.userName, isAdmin: actor.isAdmin }, keyId: actor.keyId });
    })
    .get("/projects", async (c) => c.json({ projects: await deps.db.read((db) => listProjects(db, c.get("actor"))) }));
}
