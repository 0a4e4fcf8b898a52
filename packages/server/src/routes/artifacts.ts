import { AliasName, ArtifactListQuery, ArtifactName, SetAliasBody, VersionListQuery } from "@pedigree/protocol";
import { Hono } from "hono";
import { removeAlias, setAlias } from "../artifacts/aliases";
import { getArtifactDetails, listArtifacts, listArtifactVersions } from "../artifacts/details";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { requireProject } from "../projects";
import { jsonBody, projectOf, queryOf, writeContext } from "./request";

/** /api/v1/projects/:project/artifacts: artifacts, their versions and their aliases. */
export function artifactRoutes(deps: AppDeps) {
  const nameOf = (param: string | undefined) => parseInput(ArtifactName, param, "name");
  const aliasOf = (param: string | undefined) => parseInput(AliasName, param, "alias");

  return new Hono<AppEnv>()
    .get("/", async (c) => {
      const project = projectOf(c);
      const query = queryOf(c, ArtifactListQuery);
      const page = await deps.db.read(async (db) => {
        await requireProject(db, project);
        return listArtifacts(db, project, query);
      });
      return c.json(page);
    })
    .get("/:name", async (c) => {
      const name = nameOf(c.req.param("name"));
      return c.json(await deps.db.read((db) => getArtifactDetails(db, projectOf(c), name)));
    })
    .get("/:name/versions", async (c) => {
      const name = nameOf(c.req.param("name"));
      const query = queryOf(c, VersionListQuery);
      return c.json(await deps.db.read((db) => listArtifactVersions(db, projectOf(c), name, query)));
    })
    .put("/:name/aliases/:alias", async (c) => {
      const name = nameOf(c.req.param("name"));
      const alias = aliasOf(c.req.param("alias"));
      const { version } = await jsonBody(c, SetAliasBody);
      const ctx = writeContext(c, deps);
      return c.json(await deps.db.transaction((tx) => setAlias(tx, ctx, { name, alias, version })));
    })
    .delete("/:name/aliases/:alias", async (c) => {
      const name = nameOf(c.req.param("name"));
      const alias = aliasOf(c.req.param("alias"));
      const ctx = writeContext(c, deps);
      await deps.db.transaction((tx) => removeAlias(tx, ctx, { name, alias }));
      return c.body(null, 204);
    });
}
