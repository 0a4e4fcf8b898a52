import { deleteRun } from "../artifacts/deletion";
import { authorizeProject } from "../auth/access";
import type { AppDeps } from "../context";
import { requireProject } from "../projects";
import { createRun, getRunDetails, listRuns, recordInput, updateRun } from "../runs/service";
import type { RouteHandlers } from "./register-route";
import { deleteContext, projectOf, writeContext } from "./request";

/** /api/v1/projects/:project/runs */
export function runRoutes(
  deps: AppDeps,
): RouteHandlers<"createRun" | "listRuns" | "getRun" | "updateRun" | "deleteRun" | "useArtifact"> {
  return {
    createRun: async (c, { body }) => {
      const ctx = writeContext(c, deps);
      // Reserved before the run's transaction: on PGlite (one connection) it could not run inside it.
      const ordinal = await deps.runOrdinals.next(deps.db, ctx.project);
      const run = await deps.db.transaction((tx) => createRun(tx, ctx, body, ordinal));
      return c.json(run, 201);
    },
    listRuns: async (c, { query }) => {
      const project = projectOf(c);
      const page = await deps.db.read(async (db) => {
        await requireProject(db, project);
        return listRuns(db, project, query);
      });
      return c.json(page);
    },
    getRun: async (c, { params: { runId } }) => {
      return c.json(await deps.db.read((db) => getRunDetails(db, projectOf(c), runId)));
    },
    updateRun: async (c, { params: { runId }, body }) => {
      return c.json(await deps.db.transaction((tx) => updateRun(tx, writeContext(c, deps), runId, body)));
    },
    deleteRun: async (c, { params: { runId } }) => {
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => deleteRun(tx, ctx, runId)));
    },
    useArtifact: async (c, { params: { runId }, body }) => {
      // Using a version of another project reads that project: the same gate as a GET there.
      if (body.project && body.project !== projectOf(c)) {
        const other = body.project;
        await deps.db.read((db) => authorizeProject(db, c.get("actor"), other, "read"));
      }
      return c.json(await deps.db.transaction((tx) => recordInput(tx, writeContext(c, deps), runId, body)));
    },
  };
}
