import { CreateRunBody, RunId, RunListQuery, UpdateRunBody, UseArtifactBody } from "@pedigree/protocol";
import { Hono } from "hono";
import { deleteRun } from "../artifacts/deletion";
import { authorizeProject } from "../auth/access";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { requireProject } from "../projects";
import { createRun, getRunDetails, listRuns, recordInput, updateRun } from "../runs/service";
import { deleteContext, jsonBody, projectOf, queryOf, writeContext } from "./request";

/** /api/v1/projects/:project/runs */
export function runRoutes(deps: AppDeps) {
  const runIdOf = (param: string | undefined) => parseInput(RunId, param, "runId");
  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const body = await jsonBody(c, CreateRunBody);
      const ctx = writeContext(c, deps);
      // Reserved before the run's transaction: on PGlite (one connection) it could not run inside it.
      const ordinal = await deps.runOrdinals.next(deps.db, ctx.project);
      const run = await deps.db.transaction((tx) => createRun(tx, ctx, body, ordinal));
      return c.json(run, 201);
    })
    .get("/", async (c) => {
      const project = projectOf(c);
      const query = queryOf(c, RunListQuery);
      const page = await deps.db.read(async (db) => {
        await requireProject(db, project);
        return listRuns(db, project, query);
      });
      return c.json(page);
    })
    .get("/:runId", async (c) => {
      const runId = runIdOf(c.req.param("runId"));
      return c.json(await deps.db.read((db) => getRunDetails(db, projectOf(c), runId)));
    })
    .patch("/:runId", async (c) => {
      const runId = runIdOf(c.req.param("runId"));
      const body = await jsonBody(c, UpdateRunBody);
      return c.json(await deps.db.transaction((tx) => updateRun(tx, writeContext(c, deps), runId, body)));
    })
    .delete("/:runId", async (c) => {
      const runId = runIdOf(c.req.param("runId"));
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => deleteRun(tx, ctx, runId)));
    })
    .post("/:runId/inputs", async (c) => {
      const runId = runIdOf(c.req.param("runId"));
      const body = await jsonBody(c, UseArtifactBody);
      // Using a version of another project reads that project: the same gate as a GET there.
      if (body.project && body.project !== projectOf(c)) {
        const other = body.project;
        await deps.db.read((db) => authorizeProject(db, c.get("actor"), other, "read"));
      }
      return c.json(await deps.db.transaction((tx) => recordInput(tx, writeContext(c, deps), runId, body)));
    });
}
