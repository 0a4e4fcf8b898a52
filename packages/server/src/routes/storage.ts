import { getProjectSettings, updateProjectSettings } from "../artifacts/retention";
import { listAuditEvents } from "../audit/events";
import type { AppDeps } from "../context";
import { collectGarbage } from "../storage/gc";
import type { RouteHandlers } from "./register-route";
import { deleteContext } from "./request";

/** /api/v1/projects/:project/settings: the project's default retention (admins change it). */
export function projectSettingsRoutes(deps: AppDeps): RouteHandlers<"getProjectSettings" | "updateProjectSettings"> {
  return {
    getProjectSettings: async (c, { params: { project } }) =>
      c.json(await deps.db.read((db) => getProjectSettings(db, project))),
    updateProjectSettings: async (c, { body: { defaultTtl } }) => {
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => updateProjectSettings(tx, ctx, defaultTtl)));
    },
  };
}

/** /api/v1/projects/:project/audit: who deleted what and when, and what expired; newest first. */
export function auditRoutes(deps: AppDeps): RouteHandlers<"listAuditEvents"> {
  return {
    listAuditEvents: async (c, { params: { project }, query: { limit } }) =>
      c.json({ events: await deps.db.read((db) => listAuditEvents(db, project, { limit })) }),
  };
}

/** /api/v1/admin: server maintenance, for server admins (the route table's `server:admin`). */
export function adminRoutes(deps: AppDeps): RouteHandlers<"collectGarbage"> {
  return {
    collectGarbage: async (c, { query: { dryRun } }) => {
      const actor = c.get("actor");
      const result = await collectGarbage(deps.db, deps.blobs, {
        now: deps.clock.now(),
        graceMs: deps.config.gcGraceMs,
        pendingTtlMs: deps.config.pendingVersionTtlMs,
        dryRun,
        actor: { userId: actor.userId, userName: actor.userName },
      });
      return c.json(result);
    },
  };
}
