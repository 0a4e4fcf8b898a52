import {
  defaultOpenLineageProject,
  type LineageIngestResponse,
  type OpenLineageEvent,
  OpenLineageEventBody,
  OpenLineageTarget,
  type RunOpenLineageEvents,
} from "@pedigree/protocol";
import type { Context } from "hono";
import { authorizeProject } from "../auth/access";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { exportRunEvents } from "../openlineage/export";
import { ingestEvents, reserveRunOrdinals } from "../openlineage/ingest";
import type { RouteHandlers } from "./register-route";
import { parseJsonValue } from "./request";

/**
 * /api/v1/lineage: where the OpenLineage HTTP transport posts (one event, or `/batch` an array), optionally
 * gzipped (the route table's `acceptsGzip`). The project is `?project=`, the `x-pedigree-project` header, or
 * `openlineage`; posting needs write access to it, as any write does: the route is open to every user, and
 * this handler checks the project it names.
 */
export function openLineageIngestRoutes(
  deps: AppDeps,
): RouteHandlers<"ingestOpenLineageEvent" | "ingestOpenLineageBatch"> {
  const ingest = async (c: Context<AppEnv>, events: OpenLineageEvent[]) => {
    const { project } = parseInput(OpenLineageTarget, {
      project: c.req.query("project") ?? c.req.header("x-pedigree-project") ?? defaultOpenLineageProject,
    });
    const actor = c.get("actor");
    const access = await deps.db.read((db) => authorizeProject(db, actor, project, "write"));
    const ctx = { project, actor: actor.userId, now: () => deps.clock.now(), ...access };
    const ordinals = await reserveRunOrdinals(deps.db, deps.runOrdinals, project, events);
    const runs = await deps.db.transaction((tx) => ingestEvents(tx, ctx, events, ordinals));
    return c.json<LineageIngestResponse>({ project, accepted: events.length, runs }, 201);
  };
  return {
    ingestOpenLineageEvent: async (c, { body }) => ingest(c, [body]),
    ingestOpenLineageBatch: async (c, { body }) =>
      ingest(
        c,
        body.map((event, index) => parseJsonValue(event, OpenLineageEventBody, String(index))),
      ),
  };
}

/** GET /api/v1/projects/:project/runs/:runId/openlineage: the run as OpenLineage events. */
export function openLineageExportRoutes(deps: AppDeps): RouteHandlers<"exportRunOpenLineage"> {
  return {
    exportRunOpenLineage: async (c, { params: { project, runId } }) => {
      const events = await deps.db.read((db) => exportRunEvents(db, project, runId));
      return c.json<RunOpenLineageEvents>({ events });
    },
  };
}
