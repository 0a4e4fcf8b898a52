import { AuditListQuery, GcQuery, UpdateProjectSettingsBody } from "@pedigree/protocol";
import { Hono } from "hono";
import { getProjectSettings, updateProjectSettings } from "../artifacts/retention";
import { listAuditEvents } from "../audit/events";
import { assertServerAdmin } from "../auth/access";
import type { AppDeps, AppEnv } from "../context";
import { collectGarbage } from "../storage/gc";
import { deleteContext, jsonBody, projectOf, queryOf } from "./request";

/** /api/v1/projects/:project/settings: the project's default retention (admins change it). */
export function projectSettingsRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json(await deps.db.read((db) => getProjectSettings(db, projectOf(c)))))
    .patch("/", async (c) => {
      const { defaultTtl } = await jsonBody(c, UpdateProjectSettingsBody);
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => updateProjectSettings(tx, ctx, defaultTtl)));
    });
}

/** /api/v1/projects/:project/audit: who deleted what and when, and what expired; newest first. */
export function auditRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/", async (c) => {
    const { limit } = queryOf(c, AuditListQuery);
    return c.json({ events: await deps.db.read((db) => listAuditEvents(db, projectOf(c), { limit })) });
  });
}

/** /api/v1/admin: server maintenance, for server admins. */
export function adminRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post("/gc", async (c) => {
    const actor = c.get("actor");
    assertServerAdmin(actor);
    const { dryRun } = queryOf(c, GcQuery);
    const result = await collectGarbage(deps.db, deps.blobs, {
      now: deps.clock.now(),
      graceMs: deps.config.gcGraceMs,
      pendingTtlMs: deps.config.pendingVersionTtlMs,
      dryRun,
      actor: { userId: actor.userId, userName: actor.userName },
    });
    return c.json(result);
  });
}
