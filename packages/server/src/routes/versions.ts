import type { Readable } from "node:stream";
import {
  CommitVersionBody,
  CreateVersionBody,
  ResolveVersionQuery,
  VersionFileQuery,
  VersionId,
} from "@pedigree/protocol";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { recordBlobs, storeInlineBlobs } from "../artifacts/blobs";
import { getVersionDetails } from "../artifacts/details";
import { resolveRef } from "../artifacts/refs";
import { commitVersion, createVersion } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { badRequest, notFound, parseInput } from "../errors";
import { jsonBody, projectOf, queryOf, writeContext } from "./request";

/** /api/v1/projects/:project/versions: two-phase logging, resolution of refs, details and file downloads. */
export function versionRoutes(deps: AppDeps) {
  const versionIdOf = (param: string | undefined) => parseInput(VersionId, param, "versionId");
  const details = (project: string, ref: string) =>
    deps.db.read(async (db) => getVersionDetails(db, await resolveRef(db, project, ref)));

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { inlineBlobs, ...body } = await jsonBody(c, CreateVersionBody);
      const inlined = inlineBlobs ? await storeInlineBlobs(deps.blobs, body.manifest, inlineBlobs) : [];
      const created = await deps.db.transaction(async (tx) => {
        await recordBlobs(tx, inlined);
        return createVersion(tx, writeContext(c, deps), body, new Set(inlined.map((blob) => blob.sha256)));
      });
      return c.json(created, created.missingBlobs.length > 0 ? 202 : 201);
    })
    .post("/:versionId/commit", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const body = await jsonBody(c, CommitVersionBody);
      return c.json(await deps.db.transaction((tx) => commitVersion(tx, writeContext(c, deps), versionId, body)));
    })
    .get("/", async (c) => c.json(await details(projectOf(c), queryOf(c, ResolveVersionQuery).ref)))
    .get("/:versionId", async (c) => c.json(await details(projectOf(c), versionIdOf(c.req.param("versionId")))))
    .get("/:versionId/files", async (c) => {
      const version = await details(projectOf(c), versionIdOf(c.req.param("versionId")));
      const { path } = queryOf(c, VersionFileQuery);
      const entry = version.manifest.find((item) => item.path === path);
      if (!entry) throw notFound(`file '${path}' in version ${version.artifact}:${version.version}`, "path");
      if (!("sha256" in entry))
        throw badRequest("path", `'${path}' is a reference to ${entry.uri}; its bytes are not stored here`);
      const content = await deps.blobs.open(entry.sha256);
      if (!content) throw notFound(`blob ${entry.sha256}`, "path");
      c.header("content-type", "application/octet-stream");
      c.header("content-length", String(entry.size));
      c.header("x-content-sha256", entry.sha256);
      return stream(c, async (out) => {
        for await (const chunk of content as Readable) await out.write(chunk as Uint8Array);
      });
    });
}
