import { removeAlias, setAlias } from "../artifacts/aliases";
import { deleteVersions } from "../artifacts/deletion";
import { getArtifactDetails, listArtifacts, listArtifactVersions } from "../artifacts/details";
import type { AppDeps } from "../context";
import { requireProject } from "../projects";
import type { RouteHandlers } from "./register-route";
import { deleteContext, writeContext } from "./request";

/** /api/v1/projects/:project/artifacts: artifacts, their versions, their aliases and their deletion. */
export function artifactRoutes(
  deps: AppDeps,
): RouteHandlers<
  | "listArtifacts"
  | "getArtifact"
  | "deleteArtifact"
  | "listArtifactVersions"
  | "setArtifactAlias"
  | "removeArtifactAlias"
> {
  return {
    listArtifacts: async (c, { params: { project }, query }) => {
      const page = await deps.db.read(async (db) => {
        await requireProject(db, project);
        return listArtifacts(db, project, query);
      });
      return c.json(page);
    },
    getArtifact: async (c, { params: { project, name } }) => {
      return c.json(await deps.db.read((db) => getArtifactDetails(db, project, name)));
    },
    deleteArtifact: async (c, { params: { name }, query: { unlink } }) => {
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => deleteVersions(tx, ctx, { artifact: name }, { unlink })));
    },
    listArtifactVersions: async (c, { params: { project, name }, query }) => {
      return c.json(await deps.db.read((db) => listArtifactVersions(db, project, name, query)));
    },
    setArtifactAlias: async (c, { params: { name, alias }, body: { version } }) => {
      const ctx = writeContext(c, deps);
      return c.json(await deps.db.transaction((tx) => setAlias(tx, ctx, { name, alias, version })));
    },
    removeArtifactAlias: async (c, { params: { name, alias } }) => {
      const ctx = writeContext(c, deps);
      await deps.db.transaction((tx) => removeAlias(tx, ctx, { name, alias }));
      return c.body(null, 204);
    },
  };
}
