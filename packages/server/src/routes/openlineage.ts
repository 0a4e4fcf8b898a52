import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import {
  defaultOpenLineageProject,
  type LineageIngestResponse,
  OpenLineageBatchBody,
  type OpenLineageEvent,
  OpenLineageEventBody,
  OpenLineageTarget,
  RunId,
  type RunOpenLineageEvents,
} from "@pedigree/protocol";
import { type Context, Hono } from "hono";
import { authorizeProject } from "../auth/access";
import type { AppDeps, AppEnv } from "../context";
import { ApiError, badRequest, parseInput } from "../errors";
import { exportRunEvents } from "../openlineage/export";
import { ingestEvents, reserveRunOrdinals } from "../openlineage/ingest";
import { parseJsonValue, projectOf } from "./request";

const gunzipAsync = promisify(gunzip);

/**
 * /api/v1/lineage: where the OpenLineage HTTP transport posts (one event, or `/batch` an array), optionally
 * gzipped. The project is `?project=`, the `x-pedigree-project` header, or `openlineage`; posting needs
 * write access to it, as any write does.
 */
export function openLineageIngestRoutes(deps: AppDeps) {
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
  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const body = await decodedJson(c, deps.config.maxJsonBodyBytes);
      return ingest(c, [parseJsonValue(body, OpenLineageEventBody)]);
    })
    .post("/batch", async (c) => {
      const body = parseJsonValue(await decodedJson(c, deps.config.maxJsonBodyBytes), OpenLineageBatchBody);
      return ingest(
        c,
        body.map((event, index) => parseJsonValue(event, OpenLineageEventBody, String(index))),
      );
    });
}

/** GET /api/v1/projects/:project/runs/:runId/openlineage: the run as OpenLineage events. */
export function openLineageExportRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/:runId/openlineage", async (c) => {
    const runId = parseInput(RunId, c.req.param("runId"), "runId");
    const events = await deps.db.read((db) => exportRunEvents(db, projectOf(c), runId));
    return c.json<RunOpenLineageEvents>({ events });
  });
}

/** The JSON body, gunzipped when `Content-Encoding: gzip` says so; decompressed, it may be `maxBytes` at most. */
async function decodedJson(c: Context<AppEnv>, maxBytes: number): Promise<unknown> {
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  let text: string;
  if (encoding === "identity") {
    text = await c.req.text();
  } else if (encoding === "gzip") {
    const raw = Buffer.from(await c.req.arrayBuffer());
    try {
      text = (await gunzipAsync(raw, { maxOutputLength: maxBytes })).toString("utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ApiError("PAYLOAD_TOO_LARGE", `decompressed bodies are limited to ${maxBytes} bytes`, "body");
      }
      throw badRequest("body", "the body is not valid gzip");
    }
  } else {
    throw badRequest("content-encoding", `Content-Encoding '${encoding}' is not supported (gzip is)`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("body", "the body is not valid JSON");
  }
}
